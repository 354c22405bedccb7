import type { RequestContext } from "../context.ts";
import { OWNER_DISPLAY_NAME, OWNER_ID, writeOwner, xmlResponse } from "../_respond.ts";
import { S3_XMLNS, XmlWriter } from "../xml.ts";

/** The canned policy every bucket and object has until ACLs exist: the owner has FULL_CONTROL. */
export function cannedAclXml(): XmlWriter {
  const w = new XmlWriter().open("AccessControlPolicy", { xmlns: S3_XMLNS });
  writeOwner(w);
  w.open("AccessControlList").open("Grant");
  w.open("Grantee", {
    "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "xsi:type": "CanonicalUser",
  }).leaf("ID", OWNER_ID).leaf("DisplayName", OWNER_DISPLAY_NAME).close();
  w.leaf("Permission", "FULL_CONTROL").close().close().close();
  return w;
}

export async function getBucketAcl(ctx: RequestContext): Promise<Response> {
  await ctx.objects.getBucketInfo(ctx.bucket);
  return xmlResponse(cannedAclXml());
}
