// The peer of Barefoot's side-by-side benchmark (BENCHMARKS.md): the npm
// library ussd-builder serving the same five-hop walk as the gateway's
// director menu, with its sessions in Redis through sessionConfig as its
// README shows. Nothing is saved: it is the no-save baseline.
//
//   PORT=8090 SERVER=express|http REDIS_URL=redis://127.0.0.1:6379/4 node server.js
//
// SERVER=express is the library's documented setup; SERVER=http serves the
// same menu from Node's core http module, to leave out Express's cost.
'use strict';
const http = require('http');
const express = require('express');
const { createClient } = require('redis');
const UssdMenu = require('ussd-builder');

const port = Number(process.env.PORT || 8090);
const server = process.env.SERVER || 'express';
const store = createClient({ url: process.env.REDIS_URL || 'redis://127.0.0.1:6379/4' });
store.on('error', (err) => console.error('redis:', err.message));

const situations = { 1: 'Well', 2: 'Needs support', 3: 'Some concern', 4: 'Urgent concern' };
const sessionKey = (id) => 'peer:' + id;

// A menu per request, as the library's examples build it: run() keeps the
// request's state on the instance.
function directorMenu() {
  const menu = new UssdMenu();
  menu.sessionConfig({
    start: (id) => store.expire(sessionKey(id), 300),
    end: (id) => store.del(sessionKey(id)),
    set: (id, field, value) => store.hSet(sessionKey(id), field, value),
    get: (id, field) => store.hGet(sessionKey(id), field),
  });
  menu.startState({
    run: () => menu.con('Child welfare reports\n1. Record a home visit\n2. Report a need\n3. Language'),
    next: { 1: 'visit.child' },
  });
  menu.state('visit.child', {
    run: () => menu.con('Enter the child ID (e.g. C0001)'),
    next: { '*^C\\d{4}$': 'visit.situation' },
  });
  menu.state('visit.situation', {
    run: async () => {
      await menu.session.set('child', menu.val);
      menu.con('How is ' + menu.val + '?\n1. Well\n2. Needs support\n3. Some concern\n4. Urgent concern');
    },
    next: { '*^[1-4]$': 'visit.confirm' },
  });
  menu.state('visit.confirm', {
    run: async () => {
      await menu.session.set('situation', menu.val);
      const child = await menu.session.get('child');
      menu.con('Visit to ' + child + ': ' + situations[menu.val] + '\n1. Confirm\n2. Cancel');
    },
    next: { 1: 'visit.saved', 2: '__start__' },
  });
  menu.state('visit.saved', {
    run: async () => {
      const child = await menu.session.get('child');
      const situation = await menu.session.get('situation');
      menu.end('Visit recorded: ' + child + ', ' + situations[situation] + '. Thank you.');
    },
  });
  menu.on('error', (err) => console.error('menu:', err.message));
  return menu;
}

function reply(res, text) {
  if (res.headersSent) return;
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end(text);
}

function listen() {
  if (server === 'http') {
    return http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const args = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
        directorMenu().run(args, (text) => reply(res, text));
      });
    }).listen(port, '127.0.0.1');
  }
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.post('/ussd', (req, res) => directorMenu().run(req.body, (text) => reply(res, text)));
  return app.listen(port, '127.0.0.1');
}

store.connect().then(() => {
  listen();
  console.log(`peer: ussd-builder behind ${server} on 127.0.0.1:${port}`);
});
