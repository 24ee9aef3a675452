// The phone's own storage (IndexedDB): the upload queue, the patrol being recorded, and the
// member's reference data (teams, categories, rivers) for working without a signal.
// Everything recorded is written here first; the network only ever reads from here.

const DB_NAME = "geo-patrol";
const DB_VERSION = 1;
let opening = null;

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export function open() {
  if (!opening) {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      // seq grows with every item: it is the order in which items are sent.
      db.createObjectStore("queue", { keyPath: "seq", autoIncrement: true });
      db.createObjectStore("recording");
      db.createObjectStore("kv");
    };
    opening = promised(request);
  }
  return opening;
}

async function run(storeName, mode, work) {
  const db = await open();
  const tx = db.transaction(storeName, mode);
  const result = work(tx.objectStore(storeName));
  const value = result instanceof IDBRequest ? promised(result) : Promise.resolve(result);
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
  });
  return value;
}

export const get = (name, key) => run(name, "readonly", (s) => s.get(key));
export const put = (name, key, value) => run(name, "readwrite", (s) => s.put(value, key));
export const remove = (name, key) => run(name, "readwrite", (s) => s.delete(key));
export const clear = (name) => run(name, "readwrite", (s) => s.clear());

// The queue -------------------------------------------------------------------------------

export function enqueue(item) {
  const now = new Date().toISOString();
  const row = { state: "waiting", attempts: 0, error: null, createdAt: now, ...item };
  return run("queue", "readwrite", (s) => s.add(row));
}

export const queueItems = () => run("queue", "readonly", (s) => s.getAll());

export async function updateItem(seq, changes) {
  return run("queue", "readwrite", (s) => {
    const request = s.get(seq);
    request.onsuccess = () => {
      if (request.result) s.put({ ...request.result, ...changes });
    };
  });
}

export const removeItem = (seq) => run("queue", "readwrite", (s) => s.delete(seq));

// The first item still to send, in queue order. An item left "sending" by a reload or a
// dropped connection is sent again: its client id makes the server answer with the first.
export async function nextToSend() {
  const items = await queueItems();
  return items.find((item) => item.state === "waiting" || item.state === "sending") || null;
}

// Keep the last synced items visible for a while, not for ever.
export async function pruneDone(keep = 20) {
  const done = (await queueItems()).filter((item) => item.state === "done");
  for (const item of done.slice(0, Math.max(0, done.length - keep))) {
    await removeItem(item.seq);
  }
}

// Stopping a patrol: the recording becomes a queue item in one transaction, so a crash in
// between can neither lose it nor queue it twice.
export async function queueRecording(item) {
  const db = await open();
  const tx = db.transaction(["queue", "recording"], "readwrite");
  const now = new Date().toISOString();
  tx.objectStore("queue").add({ state: "waiting", attempts: 0, error: null, createdAt: now, ...item });
  tx.objectStore("recording").delete("current");
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
  });
}
