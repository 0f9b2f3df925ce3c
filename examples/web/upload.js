/*
 * The upload flow: ask this app's backend for a presigned POST, send the file straight to
 * S3 with it, then let <imgproc-image> follow the pipeline until the variants are ready.
 */
(function () {
  'use strict';
  const input = document.getElementById('picture');
  const status = document.getElementById('status');
  const problem = document.getElementById('problem');
  const result = document.getElementById('result');
  const config = fetch('/api/config').then((response) => response.json());

  // What the page says while the component is in each of its states.
  const SAYS = { waiting: 'Uploaded — processing…', complete: 'Done: your picture is ready.',
                 error: '' };

  function fail(message) {
    status.textContent = '';
    problem.textContent = message;
    problem.hidden = false;
  }

  // S3 refuses a POST with <Error><Code>EntityTooLarge</Code><Message>…</Message></Error>.
  async function refusal(response) {
    const xml = new DOMParser().parseFromString(await response.text(), 'application/xml');
    const message = xml.querySelector('Error > Message');
    return message ? `The upload was refused: ${message.textContent}`
      : `The upload failed (HTTP ${response.status}).`;
  }

  async function upload(file) {
    problem.hidden = true;
    result.replaceChildren();
    status.textContent = 'Uploading…';
    const answer = await fetch('/api/presign', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: file.name, type: file.type, size: file.size }),
    });
    const form = await answer.json().catch(() => ({}));
    if (!answer.ok) return fail(form.error || `The upload could not start (HTTP ${answer.status}).`);

    const body = new FormData();
    for (const [name, value] of Object.entries(form.fields)) body.append(name, value);
    if (!('Content-Type' in form.fields)) body.append('Content-Type', file.type);
    body.append('file', file);  // last: S3 ignores every field after the file
    let stored;
    try {
      stored = await fetch(form.url, { method: 'POST', body });
    } catch (error) {  // unreachable, or the bucket's CORS does not allow this page's origin
      return fail('The storage service could not be reached. Try again in a moment.');
    }
    if (!stored.ok) return fail(await refusal(stored));

    const image = document.createElement('imgproc-image');
    image.setAttribute('src-key', form.key);
    image.setAttribute('cdn', (await config).cdn);
    image.setAttribute('alt', `Your upload, ${file.name}`);
    image.setAttribute('sizes', '(max-width: 640px) 100vw, 640px');
    image.addEventListener('imgproc-state', (event) => {
      status.textContent = SAYS[event.detail.state] ?? status.textContent;
    });
    result.append(image);
  }

  input.addEventListener('change', () => {
    if (input.files.length) upload(input.files[0]).catch((error) => fail(String(error)));
  });
})();
