// DICOM upload from the patient page: files, a folder or zips, by picker or drag and drop.
// Files go in small batches (one request each), so hundreds of files or several GB never make
// one giant request; the progress bar counts bytes across all batches.
(function () {
  "use strict";
  const BATCH_FILES = 20;
  const BATCH_BYTES = 64 * 1024 * 1024;

  function readAllEntries(reader) {
    return new Promise((resolve, reject) => {
      const all = [];
      const next = () => reader.readEntries((entries) => {
        if (!entries.length) { resolve(all); return; }
        all.push(...entries); next();
      }, reject);
      next();
    });
  }

  async function filesFromEntry(entry, prefix) {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      return [{ file, name: prefix + file.name }];
    }
    const children = await readAllEntries(entry.createReader());
    const nested = await Promise.all(children.map((child) => filesFromEntry(child, prefix + entry.name + "/")));
    return nested.flat();
  }

  function batches(items) {
    const out = [];
    let current = [], size = 0;
    for (const item of items) {
      if (current.length && (current.length >= BATCH_FILES || size + item.file.size > BATCH_BYTES)) {
        out.push(current); current = []; size = 0;
      }
      current.push(item); size += item.file.size;
    }
    if (current.length) out.push(current);
    return out;
  }

  // One id for all the batches of one drop: the portal writes one audit event for them.
  function newUploadId() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function send(form, batch, onProgress, upload) {
    return new Promise((resolve) => {
      const data = new FormData();
      data.append("upload_id", upload.id);
      data.append("batches", String(upload.batches));
      batch.forEach((item) => data.append("files", item.file, item.name));
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRFToken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      // A missing answer says nothing of what the portal did with the files it received (it
      // keeps every whole file that arrived before a cut): those are "unknown" (sending them
      // again is safe), never "rejected". Only a file of which not one byte left is "not sent".
      let sent = false;
      let loaded = 0;
      xhr.upload.onprogress = (event) => { loaded = event.loaded; onProgress(event.loaded); };
      xhr.upload.onload = () => { sent = true; };
      const noAnswer = (reason) => {
        let start = 0;  // where the file begins in the body, at the earliest
        return batch.map((item) => {
          const reached = sent || xhr.status >= 500 || start < loaded;
          start += item.file.size;
          return reached
            ? { file: item.name, status: "unknown", reason: form.dataset.msgNoAnswer }
            : { file: item.name, status: "rejected", reason };
        });
      };
      xhr.onload = () => {
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        if (body && body.files) { resolve(body.files); return; }
        if (xhr.status < 500) { sent = false; loaded = 0; }  // refused whole (403, 413...)
        resolve(noAnswer((body && body.detail) || form.dataset.msgFailed + " (" + xhr.status + ")"));
      };
      xhr.onerror = () => resolve(noAnswer(form.dataset.msgNetwork));
      xhr.send(data);
    });
  }

  // "3 files stored" in the page's language: the server wrote each phrase for one and for
  // several (data-msg-*-one / -other, with 1 and 2 in them), the browser's plural rules choose.
  function counted(form, key, n) {
    const kind = new Intl.PluralRules(document.documentElement.lang || "en").select(n);
    const phrase = form.dataset[key + (kind === "one" ? "One" : "Other")] || "";
    return phrase.replace(kind === "one" ? "1" : "2", String(n));
  }

  function row(form, r, labels) {
    const tr = document.createElement("tr");
    tr.className = "result-" + r.status + (r.warning ? " result-warning" : "");
    for (const text of [r.file, labels[r.status] || r.status, r.reason || r.warning || ""]) {
      const td = document.createElement("td"); td.textContent = text; tr.appendChild(td);
    }
    return tr;
  }

  function table(rows) {
    const t = document.createElement("table");
    t.className = "upload-results";
    const body = document.createElement("tbody");
    body.replaceChildren(...rows);
    t.appendChild(body);
    return t;
  }

  // Summary first; then what needs a look (refused files, stored files whose patient name or
  // birth date differ from the record); the stored files last, folded and sorted by name.
  function render(form, results) {
    const labels = { stored: form.dataset.msgStored, already_present: form.dataset.msgPresent, rejected: form.dataset.msgRejected, unknown: form.dataset.msgUnknown };
    const looked = (r) => r.status === "rejected" || r.status === "unknown" || r.warning;
    const byName = (a, b) => a.file.localeCompare(b.file, undefined, { numeric: true });
    const attention = results.filter(looked).sort(byName);
    const fine = results.filter((r) => !looked(r)).sort(byName);
    const count = (status) => results.filter((r) => r.status === status).length;
    const box = form.querySelector("[data-results]");
    box.replaceChildren();
    const summary = document.createElement("p");
    summary.className = "upload-summary";
    summary.textContent = [
      counted(form, "msgStoredCount", count("stored")),
      counted(form, "msgPresentCount", count("already_present")),
      counted(form, "msgRejectedCount", count("rejected")),
      ...(count("unknown") ? [counted(form, "msgUnknownCount", count("unknown"))] : []),
    ].join(" · ");
    box.append(summary);
    if (attention.length) box.append(table(attention.map((r) => row(form, r, labels))));
    if (fine.length) {
      const details = document.createElement("details");
      const title = document.createElement("summary");
      title.textContent = form.dataset.msgShowStored;
      details.append(title, table(fine.map((r) => row(form, r, labels))));
      box.append(details);
    }
  }

  async function upload(form, items) {
    if (!items.length) return;
    const bar = form.querySelector("[data-progress]");
    const text = form.querySelector("[data-progress-text]");
    const total = items.reduce((sum, item) => sum + item.file.size, 0) || 1;
    let done = 0;
    const results = [];
    bar.hidden = false; bar.value = 0;
    form.classList.add("uploading");
    const all = batches(items);
    const upload = { id: newUploadId(), batches: all.length };
    for (const batch of all) {
      const batchBytes = batch.reduce((sum, item) => sum + item.file.size, 0);
      const batchResults = await send(form, batch, (loaded) => {
        const pct = Math.min(100, Math.round((100 * (done + Math.min(loaded, batchBytes))) / total));
        bar.value = pct; text.textContent = pct + " %";
      }, upload);
      done += batchBytes;
      results.push(...batchResults);
      render(form, results);
    }
    bar.value = 100; text.textContent = form.dataset.msgDone;
    form.classList.remove("uploading");
    form.dispatchEvent(new CustomEvent("dicom-uploaded", { bubbles: true, detail: results }));
    const panel = document.getElementById("studies-panel");
    if (panel && window.htmx) {
      window.htmx.ajax("GET", form.dataset.studiesUrl, { target: "#studies-panel", swap: "outerHTML" });
    }
  }

  function pickedFiles(input) {
    return Array.from(input.files).map((file) => ({ file, name: file.webkitRelativePath || file.name }));
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form[data-upload]").forEach((form) => {
      const zone = form.querySelector("[data-dropzone]");
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const items = Array.from(form.querySelectorAll("input[type=file]")).flatMap(pickedFiles);
        upload(form, items).then(() => form.querySelectorAll("input[type=file]").forEach((i) => { i.value = ""; }));
      });
      form.querySelectorAll("input[type=file]").forEach((input) => {
        input.addEventListener("change", () => form.requestSubmit());
      });
      zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
      zone.addEventListener("dragleave", () => zone.classList.remove("over"));
      zone.addEventListener("drop", async (event) => {
        event.preventDefault();
        zone.classList.remove("over");
        const entries = Array.from(event.dataTransfer.items || [])
          .map((item) => item.webkitGetAsEntry && item.webkitGetAsEntry()).filter(Boolean);
        const items = entries.length
          ? (await Promise.all(entries.map((entry) => filesFromEntry(entry, "")))).flat()
          : Array.from(event.dataTransfer.files).map((file) => ({ file, name: file.name }));
        upload(form, items);
      });
    });
  });
})();
