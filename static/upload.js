// Direct uploads from the page: the file goes from the browser straight to the
// media store through /v1/uploads (S3 presigned parts, or the web app's own
// signed part URLs when media is a local folder: the same code either way).
// Parts go four at a time, each retried; an upload interrupted by a closed tab
// or a lost connection resumes where the store says it stopped (the upload id
// is remembered for the same file). Progress is shown in the widget.
//
// Page hooks call window.studioUpload.take(shotId, widgetId) and
// window.studioUpload.film(slug, fields, widgetId) from js-only Gradio events.
(() => {
  'use strict';
  const PARALLEL = 4;
  const RETRIES = 3;
  const VIDEO_TYPES = {mp4: 'video/mp4', m4v: 'video/mp4', mov: 'video/quicktime',
    webm: 'video/webm', mkv: 'video/x-matroska'};

  async function api(method, path, body) {
    const response = await fetch('/v1/uploads' + path, {
      method,
      credentials: 'same-origin',
      headers: body ? {'Content-Type': 'application/json'} : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.message || `The upload failed (HTTP ${response.status}).`);
    return data;
  }

  function contentType(file) {
    const ext = (file.name.split('.').pop() || '').toLowerCase();
    return VIDEO_TYPES[ext] || file.type || 'application/octet-stream';
  }

  // One part by XMLHttpRequest (fetch reports no upload progress). Resolves the ETag.
  function putPart(url, blob, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('PUT', url);
      xhr.upload.onprogress = (event) => onProgress(event.loaded);
      xhr.onload = () => (xhr.status >= 200 && xhr.status < 300
        ? resolve(xhr.getResponseHeader('ETag') || '')
        : reject(new Error(`part refused (HTTP ${xhr.status})`)));
      xhr.onerror = () => reject(new Error('network error'));
      xhr.send(blob);
    });
  }

  function widget(id) {
    const root = document.getElementById(id);
    const find = (sel) => (root ? root.querySelector(sel) : null);
    return {
      file: () => { const input = find('input[type=file]'); return input && input.files[0]; },
      clear: () => { const input = find('input[type=file]'); if (input) input.value = ''; },
      progress(done, total) {
        const bar = find('progress');
        if (!bar) return;
        bar.hidden = false;
        bar.max = total;
        bar.value = done;
        const pct = total ? Math.floor((100 * done) / total) : 0;
        bar.setAttribute('aria-valuetext', `${pct}%`);
        this.say(`Uploading… ${pct}% (${(done / 1048576).toFixed(1)} of ${(total / 1048576).toFixed(1)} MB)`);
      },
      warn(text) {
        const line = find('.upload-warning');
        if (line) { line.textContent = text; line.hidden = !text; }
      },
      say(text, kind) {
        const line = find('.upload-status');
        if (!line) return;
        line.textContent = text;
        line.dataset.kind = kind || '';
      },
    };
  }

  function memoryKey(file, target) {
    return 'studio-upload:' + JSON.stringify([target, file.name, file.size, file.lastModified]);
  }

  async function resumeOrStart(file, target) {
    const key = memoryKey(file, target);
    const known = window.localStorage.getItem(key);
    if (known) {
      try {
        const state = await api('GET', '/' + encodeURIComponent(known));
        if (state.status === 'uploading') return [state, key];
      } catch (_) { /* gone or expired: start again */ }
    }
    const state = await api('POST', '', {...target, size: file.size, content_type: contentType(file)});
    window.localStorage.setItem(key, state.id);
    return [state, key];
  }

  async function send(file, target, view, onStart) {
    const [upload, key] = await resumeOrStart(file, target);
    if (onStart) onStart(upload);
    const size = upload.part_size;
    const etags = new Map(upload.received.map((p) => [p.number, p.etag]));
    const loaded = new Map(upload.received.map((p) => [p.number, p.size]));
    const total = file.size;
    const report = () => view.progress([...loaded.values()].reduce((a, b) => a + b, 0), total);
    report();
    const todo = [];
    for (let n = 1; n <= upload.part_count; n += 1) if (!etags.has(n)) todo.push(n);
    async function worker() {
      while (todo.length) {
        const batch = todo.splice(0, 1);
        const number = batch[0];
        const blob = file.slice((number - 1) * size, Math.min(number * size, total));
        for (let attempt = 1; ; attempt += 1) {
          try {
            // A fresh URL each try: presigned URLs expire.
            const {urls} = await api('POST', `/${upload.id}/parts`, {numbers: [number]});
            const etag = await putPart(urls[String(number)], blob, (sent) => {
              loaded.set(number, sent);
              report();
            });
            etags.set(number, etag);
            loaded.set(number, blob.size);
            report();
            break;
          } catch (error) {
            loaded.set(number, 0);
            if (attempt >= RETRIES) throw error;
            await new Promise((ok) => setTimeout(ok, 500 * attempt));
          }
        }
      }
    }
    await Promise.all(Array.from({length: Math.min(PARALLEL, todo.length || 1)}, worker));
    return [upload, etags, key];
  }

  async function finish(upload, etags, key, view, extra) {
    view.say('Checking the file…');
    // ETags may be hidden by a store without the CORS rule: then the server asks the store.
    const parts = [...etags.entries()].sort((a, b) => a[0] - b[0]);
    const body = {...extra};
    if (parts.every(([, etag]) => etag)) body.parts = parts.map(([number, etag]) => ({number, etag}));
    let state = await api('POST', `/${upload.id}/complete`, body);
    window.localStorage.removeItem(key);
    while (state.status === 'checking') {
      await new Promise((ok) => setTimeout(ok, 1000));
      state = await api('GET', `/${upload.id}`);
    }
    if (state.status !== 'ready') throw new Error(state.message || 'The file was refused.');
    return state;
  }

  async function run(widgetId, target, extra, done, onStart) {
    const view = widget(widgetId);
    const file = view.file();
    if (!file) {
      view.say('Choose a file first.', 'error');
      return null;
    }
    try {
      const [upload, etags, key] = await send(file, target, view, onStart);
      const state = await finish(upload, etags, key, view, extra);
      view.clear();
      view.say(done(state), 'ok');
      return state;
    } catch (error) {
      view.say(`${error.message} Choose the same file again to resume.`, 'error');
      return null;
    }
  }

  function warnDeadline(view, upload, file) {
    const left = upload.deadline_in_seconds;
    if (left == null || left > 3600 || left <= 0) return;
    const minutes = Math.max(1, Math.floor(left / 60));
    view.warn(`The deadline is in ${minutes} min: this ${(file.size / 1048576).toFixed(0)} MB ` +
      'upload must finish before it, or the film will not count as on time.');
  }

  window.studioUpload = {
    take(shotId, widgetId) {
      if (!shotId) { widget(widgetId).say('Choose a shot first.', 'error'); return null; }
      return run(widgetId, {purpose: 'take', shot_id: Number(shotId)}, {},
        (state) => `Uploaded: take added (it appears in the grid).`);
    },
    film(slug, fields, widgetId) {
      if (!slug) { widget(widgetId).say('Choose a jam first.', 'error'); return null; }
      const view = widget(widgetId);
      const file = view.file();
      return run(widgetId, {purpose: 'jam_film', jam: slug}, {entry: fields},
        (state) => (state.entry && state.entry.saved
          ? `Uploaded and ${state.entry.status === 'late' ? 'submitted late' : (fields.submit ? 'submitted' : 'saved as a draft')}.`
          : `Uploaded, but the entry was not saved: ${(state.entry && state.entry.error) || 'unknown error'}`),
        (upload) => { if (file) warnDeadline(view, upload, file); });
    },
  };
})();
