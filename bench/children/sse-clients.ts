/**
 * Bench child: COUNT clients of /v1/events at URL, each keeping the last epoch of every key it
 * heard; on "report" (stdin) prints one JSON line: each client's {key: epoch} and events heard.
 */
import http from 'node:http';
import readline from 'node:readline';

const [url, countText] = process.argv.slice(2);

interface Client {
  last: Record<string, string>;
  events: number;
}

function follow(client: Client, ready: () => void): void {
  http.get(new URL('/v1/events', url), { agent: false }, (res) => {
    res.setEncoding('utf8');
    let buffer = '';
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event === 'ready') ready();
        if (event !== 'change' || data === undefined) continue;
        const change = JSON.parse(data) as { key: string; epoch: string };
        client.last[change.key] = change.epoch;
        client.events++;
      }
    });
  });
}

const clients: Client[] = [];
let readyCount = 0;
for (let i = 0; i < Number(countText); i++) {
  const client = { last: {}, events: 0 };
  clients.push(client);
  follow(client, () => {
    if (++readyCount === clients.length) process.stdout.write('ready\n');
  });
}
for await (const line of readline.createInterface({ input: process.stdin })) {
  if (line === 'report') {
    process.stdout.write(`${JSON.stringify(clients)}\n`);
    process.exit(0);
  }
}
