/** The Tagging document shared by object and bucket tagging. */
import { S3Error } from "../errors.ts";
import { checkTags } from "../_metadata.ts";
import { children, childText, parseXml, S3_XMLNS, XmlWriter } from "../xml.ts";

export async function parseTaggingXml(
  text: string,
  max: number,
): Promise<Array<[string, string]>> {
  const root = await parseXml(text, "Tagging", ["Tag"]);
  const sets = children(root, "TagSet");
  if (sets.length !== 1) throw new S3Error("MalformedXML");
  const tags: Array<[string, string]> = [];
  for (const t of children(sets[0]!, "Tag")) {
    const k = childText(t, "Key");
    const v = childText(t, "Value");
    if (k === undefined || v === undefined) throw new S3Error("MalformedXML");
    tags.push([k, v]);
  }
  checkTags(tags, max);
  return tags;
}

export function taggingXml(tags: Array<[string, string]>): XmlWriter {
  const w = new XmlWriter().open("Tagging", { xmlns: S3_XMLNS }).open("TagSet");
  for (const [k, v] of tags) w.open("Tag").leaf("Key", k).leaf("Value", v).close();
  return w.close().close();
}
