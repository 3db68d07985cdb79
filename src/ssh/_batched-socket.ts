import type { Socket } from "node:net";

/**
 * Makes every write to `socket` in one turn of the event loop go out in one system call (corked
 * at the turn's first write, uncorked once the turn's callbacks are done). ssh2 writes each SSH
 * packet in three parts with AES-GCM (length, ciphertext, tag) and each packet on its own (a
 * channel open, a request's data, an EOF, a close...): 13 sends per Docker API call, each a TCP
 * segment of its own with Nagle off, each waking sshd for a fragment it cannot use yet, and on a
 * loaded machine each wake-up a chance to preempt this process in the middle of its turn.
 * OpenSSH's client writes its output buffer once per loop turn; this does the same.
 *
 * Wraps the socket's own `write` after the connect: Bun puts a `write` on the instance then, so a
 * subclass's method would never be called.
 */
export function batchWrites(socket: Socket): void {
  const write = socket.write;
  let corked = false;
  const flush = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = function (this: Socket, ...args: Parameters<Socket["write"]>): boolean {
    if (!corked && !socket.destroyed) {
      corked = true;
      socket.cork();
      // After the turn's I/O callbacks, not at its next tick: the writes of several clients'
      // callbacks in one turn (20 calls at once) go out together too (nextTick did not help there, one run).
      setImmediate(flush);
    }
    return (write as (...parts: unknown[]) => boolean).apply(socket, args);
  } as Socket["write"];
}
