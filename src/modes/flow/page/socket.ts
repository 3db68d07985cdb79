/**
 * The page script's Socket.IO client, `FlowSocket`: it comes right after the UI's settings (see
 * page.ts for the order). The compiled binary has no node_modules to serve the real client from,
 * so the page carries this one. It knows nothing of the page; it reports through the handlers the
 * UI passes in (`state`, `connected`, `refused`, `ended`, `event`). One class, so one file, though
 * longer than most: cutting a class body across strings would only hide its shape.
 */
export const socketScript = String.raw`
/**
 * A Socket.IO v4 client for namespace "/", over Engine.IO v4 with the websocket transport only.
 * Engine.IO packets (one per frame): 0 open, 1 close, 2 ping, 3 pong, 4 message, 6 noop.
 * Socket.IO packets inside a message: 0 connect, 1 disconnect, 2 event, 3 ack, 4 connect_error.
 */
class FlowSocket {
  constructor(handlers) {
    this.on = handlers;
    this.ws = null;
    this.token = "";
    this.wanted = false;
    this.connected = false;
    this.attempt = 0;
    this.nextId = 0;
    this.pending = new Map();
    this.pingWait = 0;
    this.watchdog = 0;
    this.retryTimer = 0;
  }

  connect(token) {
    this.close();
    this.token = token;
    this.wanted = true;
    this.attempt = 0;
    this.open();
  }

  close() {
    this.wanted = false;
    clearTimeout(this.retryTimer);
    this.drop();
    this.on.state("disconnected");
  }

  emit(name, payload, timeoutMs) {
    return new Promise((resolve, reject) => {
      if (!this.connected) return reject(new Error("not connected"));
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error("no reply within " + Math.round(timeoutMs / 1000) + " s"));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.send("42" + id + JSON.stringify([name, payload]));
    });
  }

  open() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(scheme + "//" + location.host + "/socket.io/?EIO=4&transport=websocket");
    this.ws = ws;
    this.on.state(this.attempt > 0 ? "reconnecting" : "connecting");
    ws.onmessage = (event) => {
      if (ws === this.ws && typeof event.data === "string") this.onEngine(event.data);
    };
    ws.onclose = () => {
      if (ws === this.ws) this.lost();
    };
  }

  send(text) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  /** Forgets the transport and fails the requests still waiting for an answer. */
  drop() {
    clearTimeout(this.watchdog);
    const ws = this.ws;
    this.ws = null;
    this.connected = false;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.close();
    }
    for (const request of this.pending.values()) {
      clearTimeout(request.timer);
      request.reject(new Error("connection lost"));
    }
    this.pending.clear();
  }

  /** The transport closed or went quiet: try again with backoff while the user wants a session. */
  lost() {
    this.drop();
    if (!this.wanted) return this.on.state("disconnected");
    this.attempt++;
    const delay = Math.min(5000, 250 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
    this.on.state("reconnecting");
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  /** No ping within pingInterval + pingTimeout means the server is gone. */
  arm() {
    clearTimeout(this.watchdog);
    if (this.pingWait > 0) this.watchdog = setTimeout(() => this.lost(), this.pingWait);
  }

  onEngine(packet) {
    switch (packet[0]) {
      case "0": {
        const open = JSON.parse(packet.slice(1));
        this.pingWait = (open.pingInterval || 25000) + (open.pingTimeout || 20000);
        this.arm();
        this.send("40" + JSON.stringify({ token: this.token }));
        break;
      }
      case "2":
        this.arm();
        this.send("3" + packet.slice(1));
        break;
      case "1":
        this.lost();
        break;
      case "4":
        this.onSocketIo(packet.slice(1));
        break;
    }
  }

  onSocketIo(packet) {
    const type = packet[0];
    let at = 1;
    if (packet[at] === "/") {
      const comma = packet.indexOf(",", at);
      const nsp = comma < 0 ? packet.slice(at) : packet.slice(at, comma);
      if (nsp !== "/") return;
      at = comma < 0 ? packet.length : comma + 1;
    }
    let id = "";
    while (at < packet.length && packet[at] >= "0" && packet[at] <= "9") id += packet[at++];
    let body;
    try {
      body = at < packet.length ? JSON.parse(packet.slice(at)) : undefined;
    } catch {
      return;
    }
    switch (type) {
      case "0":
        this.connected = true;
        this.attempt = 0;
        this.on.state("connected");
        this.on.connected();
        break;
      case "1":
        this.wanted = false;
        this.drop();
        this.on.state("disconnected");
        this.on.ended();
        break;
      case "2":
        if (Array.isArray(body) && typeof body[0] === "string") {
          if (id) this.send("43" + id + "[]");
          this.on.event(body[0], body[1]);
        }
        break;
      case "3": {
        const request = this.pending.get(Number(id));
        if (!request) return;
        this.pending.delete(Number(id));
        clearTimeout(request.timer);
        request.resolve(Array.isArray(body) ? body[0] : undefined);
        break;
      }
      case "4":
        this.wanted = false;
        this.drop();
        this.on.state("refused");
        this.on.refused(body && typeof body.message === "string" ? body.message : "refused");
        break;
    }
  }
}
`;
