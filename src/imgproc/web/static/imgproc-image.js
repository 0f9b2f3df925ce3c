/*
 * <imgproc-image src-key="uploads/u1/photo.jpg" cdn="https://dxxxx.cloudfront.net"
 *                alt="…" sizes="(max-width: 800px) 100vw, 800px"></imgproc-image>
 *
 * Shows an upload processed by imgproc, with no API, credentials or database reads: it polls
 * the CDN-served processed/{key}/manifest.json (with backoff and a timeout), shows the dominant
 * colour, then the blur placeholder, with a progress indicator while it waits; then a <picture>
 * offering AVIF first when there is one, then WebP, with a JPEG <img> fallback (srcset/sizes
 * and intrinsic width/height: no layout shift), or an accessible error message. Plain JavaScript, no build step, no dependencies.
 *
 * Attributes: src-key (required), cdn (default: this page's origin), alt, sizes,
 * prefix (default "processed/"), timeout (seconds, default 60), interval (first poll delay in
 * ms, default 500). A child <script type="application/json"> holding the manifest is used
 * instead of fetching it (static pages opened from disk, where fetch() is not allowed).
 */
(function () {
  'use strict';
  if (customElements.get('imgproc-image')) return;

  // A manifest's status: the record's, as imgproc.records.Status defines it.
  const STATUS = Object.freeze({ COMPLETE: 'COMPLETE', PARTIAL: 'PARTIAL', FAILED: 'FAILED' });
  const DONE = Object.values(STATUS);

  const STYLE = `
    :host { display: inline-block; position: relative; max-width: 100%; line-height: 0; }
    .frame { position: relative; overflow: hidden; background: #e8e8e8;
             background-size: cover; background-position: center; }
    img { display: block; max-width: 100%; height: auto; }
    .status { position: absolute; inset: 0; display: flex; align-items: center;
              justify-content: center; font: 14px/1.3 system-ui, sans-serif; color: #fff; }
    .pill { display: inline-flex; align-items: center; gap: .5em; padding: .35em .8em;
            border-radius: 1em; background: rgba(0, 0, 0, .6); }
    .spinner { width: 1.2em; height: 1.2em; border-radius: 50%;
               border: .18em solid rgba(255,255,255,.4); border-top-color: #fff;
               animation: spin 1s linear infinite; }
    @keyframes spin { to { transform: rotate(360deg); } }
    @media (prefers-reduced-motion: reduce) { .spinner { animation: none; } }
    .error { position: static; display: block; box-sizing: border-box; padding: .8em 1em;
             color: #7a0010; background: #fde8ea; border-left: .3em solid #c8102e;
             line-height: 1.4; width: 22em; max-width: 100%; }
  `;

  // The manifest's `sources` (formats in the order to offer them, each with its
  // whole-picture sizes narrowest first), or the same worked out from `variants` for a
  // manifest written before imgproc had `sources`.
  const PICTURE_ORDER = ['avif', 'webp', 'png', 'jpeg'];
  const TYPES = { avif: 'image/avif', webp: 'image/webp', png: 'image/png', jpeg: 'image/jpeg' };
  const sourcesOf = (manifest) => {
    if (Array.isArray(manifest.sources)) return manifest.sources.filter((s) => s.sizes.length);
    const ratio = manifest.width / manifest.height;
    const whole = (manifest.variants || []).filter(
      (v) => Math.abs(v.width / v.height - ratio) <= 0.02 * Math.max(1, ratio));
    return PICTURE_ORDER.map((format) => ({
      format,
      contentType: TYPES[format],
      sizes: whole.filter((v) => v.format === format).sort((a, b) => a.width - b.width),
    })).filter((entry) => entry.sizes.length);
  };

  const encodePath = (key) => key.split('/').map(encodeURIComponent).join('/');
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  class ImgprocImage extends HTMLElement {
    static get observedAttributes() { return ['src-key', 'cdn', 'prefix']; }

    constructor() {
      super();
      this.attachShadow({ mode: 'open' });
      this.state = 'idle';
      this._run = 0;
    }

    connectedCallback() { this._start(); }
    disconnectedCallback() { this._run += 1; }
    attributeChangedCallback(_name, before, after) {
      if (this.isConnected && before !== after) this._start();
    }

    get manifestUrl() {
      const cdn = (this.getAttribute('cdn') || window.location.origin).replace(/\/+$/, '');
      const prefix = this.getAttribute('prefix') || 'processed/';
      return `${cdn}/${prefix}${encodePath(this.getAttribute('src-key') || '')}/manifest.json`;
    }

    async _start() {
      const run = ++this._run;
      const timeoutMs = Number(this.getAttribute('timeout') || 60) * 1000;
      const deadline = Date.now() + timeoutMs;
      let delay = Number(this.getAttribute('interval') || 500);
      let networkErrors = 0;
      const inline = this.querySelector('script[type="application/json"]');
      if (inline) return this._settle(JSON.parse(inline.textContent));
      this._showWaiting(null);
      while (run === this._run) {
        let response = null;
        try {
          response = await fetch(this.manifestUrl, { cache: 'no-store' });
          networkErrors = 0;
        } catch (error) {
          networkErrors += 1;
          if (networkErrors >= 4) {
            return this._showError('The image service could not be reached. ' +
                                   'Check your connection and reload the page.', 'network');
          }
        }
        if (run !== this._run) return;
        if (response && response.ok) {
          const manifest = await response.json().catch(() => null);
          if (manifest && DONE.includes(manifest.status)) {
            return this._settle(manifest);
          }
          this._showWaiting(manifest);
        }
        if (Date.now() + delay > deadline) {
          return this._showError('This image is taking too long to process. ' +
                                 'Try again in a moment.', 'timeout');
        }
        await sleep(delay);
        delay = Math.min(delay * 1.6, 5000);
      }
    }

    _settle(manifest) {
      if (manifest.status === STATUS.FAILED || !(manifest.variants || []).length) {
        return this._showError(manifest.error || 'This image could not be processed.',
                               'failed');
      }
      return this._showPicture(manifest);
    }

    _frame(manifest) {
      const frame = document.createElement('div');
      frame.className = 'frame';
      if (manifest) {
        if (manifest.dominantColor) frame.style.backgroundColor = manifest.dominantColor;
        if (manifest.placeholder) frame.style.backgroundImage = `url("${manifest.placeholder}")`;
        if (manifest.width && manifest.height) {
          frame.style.aspectRatio = `${manifest.width} / ${manifest.height}`;
        }
      }
      return frame;
    }

    _render(state, ...children) {
      this.state = state;
      this.setAttribute('state', state);
      const style = document.createElement('style');
      style.textContent = STYLE;
      this.shadowRoot.replaceChildren(style, ...children);
      this.dispatchEvent(new CustomEvent('imgproc-state', { detail: { state }, bubbles: true }));
    }

    _showWaiting(manifest) {
      if (this.state === 'waiting' && !manifest) return;
      const frame = this._frame(manifest);
      if (!manifest) {  // nothing known yet: a neutral 4:3 box, as wide as allowed
        frame.style.width = `${this.getAttribute('width') || 320}px`;
        frame.style.maxWidth = '100%';
        frame.style.aspectRatio = '4 / 3';
      }
      const status = document.createElement('div');
      status.className = 'status';
      status.setAttribute('role', 'status');
      status.setAttribute('aria-live', 'polite');
      const pill = document.createElement('span');
      pill.className = 'pill';
      const spinner = document.createElement('span');
      spinner.className = 'spinner';
      spinner.setAttribute('aria-hidden', 'true');
      pill.append(spinner, document.createTextNode('Processing image…'));
      status.append(pill);
      frame.append(status);
      this._render('waiting', frame);
    }

    _showPicture(manifest) {
      const url = (variant) => variant.url ||
        `${(this.getAttribute('cdn') || window.location.origin).replace(/\/+$/, '')}/` +
        encodePath(variant.key);
      const srcset = (sizes) => sizes.map((v) => `${url(v)} ${v.width}w`).join(', ');
      const sizes = this.getAttribute('sizes') || `(max-width: ${manifest.width}px) 100vw, ` +
        `${manifest.width}px`;
      // Most compact format first (AVIF, WebP, …); the last, JPEG when there is one, is the
      // <img> every browser can show. The browser takes the first <source> it can decode.
      const sources = sourcesOf(manifest);
      const last = sources[sources.length - 1];
      const picture = document.createElement('picture');
      for (const entry of sources.slice(0, -1)) {
        const source = document.createElement('source');
        source.type = entry.contentType;
        source.srcset = srcset(entry.sizes);
        source.sizes = sizes;
        picture.append(source);
      }
      const fallback = last ? last.sizes[last.sizes.length - 1] : manifest.variants[0];
      const img = document.createElement('img');
      img.alt = this.getAttribute('alt') || '';
      img.width = manifest.width;
      img.height = manifest.height;
      img.decoding = 'async';
      img.loading = this.getAttribute('loading') || 'lazy';
      if (last) {
        img.srcset = srcset(last.sizes);
        img.sizes = sizes;
      }
      img.src = url(fallback);
      picture.append(img);
      const frame = this._frame(manifest);
      frame.append(picture);
      img.addEventListener('load', () => {
        frame.style.backgroundImage = 'none';
        this.dispatchEvent(new CustomEvent('imgproc-load', { bubbles: true }));
      }, { once: true });
      this._render('complete', frame);
    }

    _showError(message, reason) {
      const error = document.createElement('div');
      error.className = 'status error';
      error.setAttribute('role', 'alert');
      error.dataset.reason = reason;
      error.textContent = message;
      this._render('error', error);
    }
  }

  customElements.define('imgproc-image', ImgprocImage);
})();
