/**
 * Bench child: a lean HTTP/1.1 load client (raw keep-alive sockets, one request in flight on
 * each): CONNECTIONS sockets GET PATH for SECONDS; prints {"requests":N,"seconds":S,"status":…}.
 * Every answer of a server that is not written to has the same length (measured from the first),
 * so an answer is complete when that many bytes came: the client spends almost nothing per request.
 */
import net from 'node:net';

const [host, portText, path, connectionsText, secondsText] = process.argv.slice(2);
const port = Number(portText);
const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`, 'latin1');

/** One request on its own socket: the length of the whole answer, and its status line. */
function probe(): Promise<{ length: number; status: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host!, () => socket.write(request));
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const head = received.indexOf('\r\n\r\n');
      if (head < 0) return;
      const length = Number(/content-length: *(\d+)/i.exec(received.subarray(0, head).toString('latin1'))?.[1] ?? NaN);
      if (received.length >= head + 4 + length) {
        socket.destroy();
        resolve({ length: head + 4 + length, status: received.subarray(0, received.indexOf('\r\n')).toString('latin1') });
      }
    });
    socket.on('error', reject);
  });
}

const { length, status } = await probe();
let requests = 0;
let running = true;
const sockets: net.Socket[] = [];
const started = process.hrtime.bigint();
for (let i = 0; i < Number(connectionsText); i++) {
  const socket = net.connect(port, host!, () => socket.write(request));
  socket.setNoDelay(true);
  let pending = 0;
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.length;
    while (pending >= length) {
      pending -= length;
      requests++;
      if (running) socket.write(request);
    }
  });
  socket.on('error', () => undefined);
  sockets.push(socket);
}
setTimeout(() => {
  running = false;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const s of sockets) s.destroy();
  process.stdout.write(`${JSON.stringify({ requests, seconds, status, answerBytes: length })}\n`);
}, Number(secondsText) * 1000);
