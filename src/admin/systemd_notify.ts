/**
 * systemd readiness (`Type=notify`): sends "READY=1" / "STOPPING=1" as one datagram to the AF_UNIX
 * socket named by NOTIFY_SOCKET (sd_notify(3)). Deno sends Unix datagrams only through the unstable
 * `Deno.listenDatagram({ transport: "unixpacket" })` (it needs --unstable-net, which compile.sh and
 * `deno task shale` pass) and only from a bound path, so a throwaway socket is bound in a temp
 * folder (PrivateTmp= gives the service a writable /tmp) for each message.
 * Abstract sockets (NOTIFY_SOCKET starting with "@") cannot be named through Deno's API.
 */
import { logger } from "../util/logger.ts";

type ListenDatagram = (opts: { transport: "unixpacket"; path: string }) => {
  send(data: Uint8Array, addr: { transport: "unixpacket"; path: string }): Promise<number>;
  close(): void;
};

/** True when the message was sent; false when there is no notify socket or it cannot be reached. */
export async function notifySystemd(state: string, env = Deno.env.get("NOTIFY_SOCKET")): Promise<
  boolean
> {
  if (env === undefined || env === "") return false;
  if (env.startsWith("@")) {
    logger.warn("NOTIFY_SOCKET is an abstract socket, which Deno cannot address", { state });
    return false;
  }
  const listen = (Deno as unknown as { listenDatagram?: ListenDatagram }).listenDatagram;
  if (listen === undefined) {
    logger.warn("Cannot notify systemd: Unix datagrams need --unstable-net", { state });
    return false;
  }
  let dir: string | undefined;
  try {
    dir = await Deno.makeTempDir({ prefix: "shale-notify-" });
    const conn = listen({ transport: "unixpacket", path: `${dir}/s` });
    try {
      await conn.send(new TextEncoder().encode(state), { transport: "unixpacket", path: env });
    } finally {
      conn.close();
    }
    return true;
  } catch (e) {
    logger.warn("Cannot notify systemd", { state, error: e });
    return false;
  } finally {
    if (dir !== undefined) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
