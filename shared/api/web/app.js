// Gantry web chat: vanilla JS under a strict CSP (no inline code, nothing from elsewhere).
//
// Safety rule for this file: text from the server or the person (model output, prompts, titles,
// step details, file names) only ever reaches the page through textContent or text nodes, and a
// link is only made from an http(s) URL or a same-origin path.
'use strict';

(() => {
  const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
  const IMAGE_TYPES = { 'image/png': 'PNG', 'image/jpeg': 'JPEG', 'image/webp': 'WebP', 'image/gif': 'GIF' };
  const POLL_MS = 1000;
  const SESSION_KEY = 'gantry.session';
  const MISSION_KEY = 'gantry.mission';
  const PROCEED_MESSAGE = 'yes, proceed';
  const IMAGE_ONLY_MESSAGE = 'Here is a design image for the app.';

  const IN_FLIGHT = new Set(['QUEUED', 'DRAFTING', 'VALIDATING', 'BUILDING', 'HEALING', 'DEPLOYING', 'PUBLISHING']);
  const SUCCESSFUL = new Set(['DEPLOYED', 'PR_OPENED', 'SUCCESS']);
  const FAILED = new Set(['BLOCKED', 'FAILED', 'TIMEOUT']);
  const FINAL = new Set([...SUCCESSFUL, ...FAILED, 'CANCELLED', 'EXPIRED']);
  const RETRYABLE = new Set(['BLOCKED', 'FAILED', 'TIMEOUT', 'CANCELLED']);

  const STATUS_LABELS = {
    AWAITING_INPUT: 'Awaiting input',
    QUEUED: 'Queued',
    DRAFTING: 'Drafting',
    VALIDATING: 'Policy check',
    BUILDING: 'Building',
    HEALING: 'Healing',
    DEPLOYING: 'Deploying',
    PUBLISHING: 'Publishing',
    DEPLOYED: 'Deployed',
    PR_OPENED: 'PR opened',
    SUCCESS: 'Success',
    BLOCKED: 'Blocked',
    FAILED: 'Failed',
    TIMEOUT: 'Timed out',
    CANCELLED: 'Cancelled',
    EXPIRED: 'Expired',
  };
  const STEP_LABELS = {
    draft: 'Draft',
    policy: 'Policy check',
    build: 'Build & test',
    heal: 'Heal',
    deploy: 'Deploy',
    publish: 'Publish',
    evidence: 'Evidence',
    finalize: 'Finalize',
  };
  const STEP_STATES = { running: 'Running', succeeded: 'Done', failed: 'Failed' };
  const STACK_LABELS = { static: 'Static site (HTML, CSS, JS)', node: 'Node.js', python: 'Python' };

  const state = {
    token: null,
    missionId: null,
    status: null,
    /** Bumped whenever the shown mission changes, so late answers for another one are dropped. */
    generation: 0,
    /** Bumped to stop the current polling loop. */
    pollId: 0,
    pollTimer: null,
    sending: false,
    image: null,
    resultsKey: null,
    evidenceKey: null,
    workspaceKey: null,
    filesKey: null,
    files: [],
  };

  const $ = (id) => document.getElementById(id);

  /** Builds an element; strings among `children` become text nodes, never markup. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'class') node.className = value;
      else if (name === 'text') node.textContent = value;
      else node.setAttribute(name, String(value));
    }
    for (const child of children) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  }

  /** An http(s) URL or a same-origin path, else null: no javascript:, data: or protocol-relative links. */
  function safeHref(value) {
    if (typeof value !== 'string') return null;
    const url = value.trim();
    // URL parsing drops tabs and newlines, which could turn "/\t/host" into "//host".
    if (/[\u0000-\u001f\u007f\\]/.test(url)) return null;
    const path = url.startsWith('/') && !url.startsWith('//');
    if (!path && !/^https?:\/\//i.test(url)) return null;
    try {
      const parsed = new URL(url, window.location.origin);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
      if (path && parsed.origin !== window.location.origin) return null;
      return url;
    } catch {
      return null;
    }
  }

  function link(href, text, testid) {
    return el('a', { href, target: '_blank', rel: 'noopener noreferrer', 'data-testid': testid, text });
  }

  const isColor = (value) => typeof value === 'string' && /^#[0-9a-f]{3,8}$/i.test(value);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function formatBytes(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  }

  function formatClock(at) {
    const date = new Date(at);
    return Number.isNaN(date.getTime()) ? '' : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function formatAge(at) {
    const date = new Date(at);
    const seconds = (Date.now() - date.getTime()) / 1000;
    if (Number.isNaN(seconds)) return '';
    if (seconds < 60) return 'just now';
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
    if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
    return date.toLocaleDateString([], { month: 'short', day: 'numeric' });
  }

  function formatDuration(startedAt, endedAt) {
    const start = Date.parse(startedAt);
    const end = endedAt ? Date.parse(endedAt) : Date.now();
    if (Number.isNaN(start) || Number.isNaN(end)) return '';
    const seconds = Math.max(0, end - start) / 1000;
    if (seconds < 60) return `${seconds.toFixed(1)} s`;
    return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  }

  function statusTone(status) {
    if (status === 'AWAITING_INPUT') return 'waiting';
    if (IN_FLIGHT.has(status)) return 'running';
    if (SUCCESSFUL.has(status)) return 'success';
    if (FAILED.has(status)) return 'failure';
    return 'neutral';
  }

  // ---- the alert region -------------------------------------------------------------------

  function showAlert(message, tone = 'error') {
    const region = $('alert');
    const close = el('button', { type: 'button', class: 'alert-close', 'aria-label': 'Dismiss this message' }, '×');
    close.addEventListener('click', clearAlert);
    region.dataset.tone = tone;
    region.replaceChildren(
      el('span', { class: 'alert-icon', 'aria-hidden': 'true' }, tone === 'error' ? '!' : 'i'),
      el('p', { class: 'alert-text', text: message }),
      close,
    );
  }

  function clearAlert() {
    $('alert').replaceChildren();
  }

  // ---- talking to the API -----------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function readJson(response) {
    try {
      const text = await response.text();
      return text ? JSON.parse(text) : null;
    } catch {
      return null;
    }
  }

  /** The API's `{"error":{"code","message"}}` as an ApiError; a 429 always says how long to wait. */
  function toApiError(response, data) {
    const error = data && typeof data === 'object' && data.error && typeof data.error === 'object' ? data.error : {};
    let message = typeof error.message === 'string' && error.message ? error.message : '';
    if (!message) message = `Gantry answered with an error (HTTP ${response.status}).`;
    if (response.status === 429) {
      const wait = Number.parseInt(response.headers.get('Retry-After') || '', 10);
      if (Number.isFinite(wait) && wait > 0) {
        if (!message.includes(String(wait))) message += ` Please wait ${wait} seconds before trying again.`;
      } else if (!/second|minute|wait/i.test(message)) {
        message += ' Please wait a moment before trying again.';
      }
    }
    return new ApiError(response.status, typeof error.code === 'string' ? error.code : 'error', message);
  }

  /**
   * Calls the API with the bearer token. The session cookie is left out on purpose: signing out
   * of this page then really signs it out, whatever the cookie still says.
   */
  async function api(method, path, body, { auth = true } = {}) {
    const headers = { Accept: 'application/json' };
    if (auth && state.token) headers.Authorization = `Bearer ${state.token}`;
    const init = { method, headers, cache: 'no-store', credentials: auth ? 'omit' : 'same-origin' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch {
      throw new ApiError(0, 'network', 'Gantry could not be reached. Check that it is running, then try again.');
    }
    const data = await readJson(response);
    if (!response.ok) throw toApiError(response, data);
    return { status: response.status, data: data || {} };
  }

  function handleError(error) {
    if (error && error.status === 401 && state.token) {
      signOut('Your session has ended. Please sign in again.');
      return;
    }
    showAlert(error && error.message ? error.message : 'Something went wrong. Please try again.');
  }

  const missionPath = (id, rest = '') => `/gantry/${rest}${encodeURIComponent(id)}`;

  // ---- session ------------------------------------------------------------------------------

  function storedSession() {
    try {
      const session = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
      if (!session || typeof session.token !== 'string') return null;
      if (session.expires_at && Date.parse(session.expires_at) <= Date.now()) return null;
      return session;
    } catch {
      return null;
    }
  }

  function remember(key, value) {
    try {
      if (value === null) sessionStorage.removeItem(key);
      else sessionStorage.setItem(key, value);
    } catch {
      // Private modes may refuse storage; the page keeps working from memory.
    }
  }

  async function signIn(event) {
    event.preventDefault();
    const password = $('password').value;
    if (!password) {
      showAlert('Enter your Gantry password to sign in.');
      $('password').focus();
      return;
    }
    const button = $('login-button');
    button.disabled = true;
    button.textContent = 'Signing in…';
    try {
      const { data } = await api('POST', '/gantry/auth', { password }, { auth: false });
      state.token = data.token;
      remember(SESSION_KEY, JSON.stringify({ token: data.token, expires_at: data.expires_at }));
      $('password').value = '';
      clearAlert();
      enterApp();
    } catch (error) {
      showAlert(error.message);
      $('password').select();
    } finally {
      button.disabled = false;
      button.textContent = 'Sign in';
    }
  }

  function signOut(message) {
    stopPolling();
    state.generation += 1;
    state.token = null;
    remember(SESSION_KEY, null);
    remember(MISSION_KEY, null);
    clearAttachment();
    resetMissionView();
    $('missions').replaceChildren();
    $('app-view').hidden = true;
    $('login-view').hidden = false;
    if (message) showAlert(message, 'info');
    else clearAlert();
    $('password').focus();
  }

  /** Signs out here and drops the HttpOnly session cookie, which only the server can expire. */
  async function logOut() {
    const button = $('logout');
    button.disabled = true;
    try {
      await fetch('/gantry/logout', { method: 'POST', credentials: 'same-origin', cache: 'no-store' });
    } catch {
      // Signed out on this page all the same; the cookie then lapses at its own expiry.
    } finally {
      button.disabled = false;
    }
    signOut('You are signed out.');
  }

  function enterApp() {
    $('login-view').hidden = true;
    $('app-view').hidden = false;
    loadHealth();
    loadThemes();
    loadMissions();
    let last = null;
    try {
      last = sessionStorage.getItem(MISSION_KEY);
    } catch {
      last = null;
    }
    if (last) openMission(last);
    else newMission();
  }

  // ---- the conversation ---------------------------------------------------------------------

  function scrollToEnd() {
    const scroller = $('scroller');
    requestAnimationFrame(() => {
      scroller.scrollTop = scroller.scrollHeight;
    });
  }

  function addTurn(role, content, at, attachmentName) {
    const who = role === 'user' ? 'user' : 'assistant';
    const meta = el('div', { class: 'msg-meta' }, el('span', { class: 'msg-who', text: who === 'user' ? 'You' : 'Gantry' }));
    if (at) meta.append(el('time', { datetime: at, text: formatClock(at) }));
    const item = el('li', { class: `msg msg-${who}` }, meta, el('div', { class: 'msg-body', text: content }));
    if (attachmentName) {
      item.append(el('div', { class: 'msg-attachment', text: `Design image: ${attachmentName}` }));
    }
    $('conversation').append(item);
    $('welcome').hidden = true;
    scrollToEnd();
    return item;
  }

  function setTyping(on) {
    $('typing').hidden = !on;
    if (on) scrollToEnd();
  }

  /** Phones get the short forms: a placeholder must fit the one-line box. */
  const NARROW = window.matchMedia('(max-width: 560px)');

  function setPlaceholder() {
    const box = $('message');
    const narrow = NARROW.matches;
    if (state.missionId && state.status && state.status !== 'AWAITING_INPUT') {
      box.placeholder = narrow ? 'Describe another app…' : 'Describe a new app to start another mission…';
    } else if (state.missionId) {
      box.placeholder = narrow ? 'Answer, or say what to change…' : 'Answer Gantry, or tell it what to change…';
    } else {
      box.placeholder = 'Describe the app you want…';
    }
  }

  function resetMissionView() {
    stopPolling();
    state.generation += 1;
    state.missionId = null;
    state.status = null;
    state.resultsKey = null;
    state.evidenceKey = null;
    $('conversation').replaceChildren();
    $('welcome').hidden = false;
    $('proposal').hidden = true;
    $('progress').hidden = true;
    $('question').hidden = true;
    $('timeline').replaceChildren();
    $('results').replaceChildren();
    $('results').hidden = true;
    resetWorkspace();
    $('mission-error').hidden = true;
    $('mission-title').textContent = 'New mission';
    setBadge(null);
    setActions(null);
    setTyping(false);
    setPlaceholder();
    return state.generation;
  }

  function newMission() {
    resetMissionView();
    remember(MISSION_KEY, null);
    highlightMission();
  }

  // ---- consultation: question and proposal --------------------------------------------------

  function renderConsultation(consultation, proposalText) {
    const card = $('proposal');
    const question = $('question');
    if (!consultation || state.status !== 'AWAITING_INPUT') {
      card.hidden = true;
      question.hidden = true;
      return;
    }
    if (consultation.status === 'NEEDS_CONFIRMATION') {
      question.hidden = true;
      const text = $('proposal-text');
      text.textContent = proposalText || '';
      text.hidden = !proposalText;
      const features = Array.isArray(consultation.features) ? consultation.features : [];
      $('proposal-features').replaceChildren(
        ...features.map((feature) => el('li', { text: String(feature) })),
      );
      const stack = consultation.proposed_stack;
      $('proposal-stack').textContent = STACK_LABELS[stack] || (stack ? String(stack) : 'To be decided');
      $('proposal-design').textContent = consultation.design_label || 'A clean default look';
      const confidence = Math.round(Math.min(1, Math.max(0, Number(consultation.confidence) || 0)) * 100);
      $('proposal-confidence-fill').style.width = `${confidence}%`;
      $('proposal-confidence').setAttribute('aria-label', `Confidence ${confidence} percent`);
      $('proposal-confidence-label').textContent = `${confidence}% confident`;
      $('proposal-question').textContent = consultation.question || 'Shall I proceed?';
      card.hidden = false;
    } else {
      card.hidden = true;
      question.hidden = !consultation.question;
      $('question-text').textContent = consultation.question || '';
    }
    scrollToEnd();
  }

  // ---- mission status, timeline and results -------------------------------------------------

  function setBadge(status) {
    const badge = $('mission-badge');
    if (!status) {
      badge.hidden = true;
      badge.textContent = '';
      delete badge.dataset.status;
      return;
    }
    badge.hidden = false;
    badge.dataset.status = status;
    badge.dataset.tone = statusTone(status);
    badge.textContent = STATUS_LABELS[status] || status;
  }

  function setActions(status) {
    $('retry').hidden = !RETRYABLE.has(status);
    $('cancel').hidden = !(status === 'AWAITING_INPUT' || IN_FLIGHT.has(status));
  }

  function renderStep(step) {
    const status = STEP_STATES[step.status] ? step.status : 'running';
    const name = STEP_LABELS[step.name] || String(step.name || 'step');
    const head = el(
      'div',
      { class: 'step-head' },
      el('span', { class: 'step-name', text: name }),
      el('span', { class: 'step-attempt', text: `attempt ${Number(step.attempt) || 1}` }),
      el('span', { class: 'step-state', text: STEP_STATES[status] }),
      el('span', { class: 'step-duration', text: formatDuration(step.started_at, step.ended_at) }),
    );
    const item = el('li', { class: `step step-${status}` }, el('span', { class: 'step-marker', 'aria-hidden': 'true' }), head);
    if (step.detail) item.append(el('p', { class: 'step-detail', text: String(step.detail) }));
    return item;
  }

  function renderStatus(view) {
    const changed = state.status !== view.status;
    state.status = view.status;
    $('mission-title').textContent = view.title || 'Untitled mission';
    setBadge(view.status);
    setActions(view.status);
    setPlaceholder();
    if (view.status === 'AWAITING_INPUT') {
      $('progress').hidden = true;
      return;
    }
    $('proposal').hidden = true;
    $('question').hidden = true;
    $('progress').hidden = false;
    $('status-speech').textContent = view.speech || '';
    const attempts = Number(view.attempts) || 0;
    const heals = Number(view.heals) || 0;
    $('progress-attempts').textContent = attempts
      ? `${attempts} ${attempts === 1 ? 'attempt' : 'attempts'}${heals ? `, ${heals} ${heals === 1 ? 'heal' : 'heals'}` : ''}`
      : '';
    const steps = Array.isArray(view.steps) ? view.steps : [];
    const timeline = $('timeline');
    if (steps.length) {
      timeline.replaceChildren(...steps.map(renderStep));
    } else if (IN_FLIGHT.has(view.status)) {
      timeline.replaceChildren(
        el('li', { class: 'step step-pending' }, el('span', { class: 'step-marker', 'aria-hidden': 'true' }),
          el('div', { class: 'step-head' }, el('span', { class: 'step-name', text: 'Waiting for the pipeline to start…' }))),
      );
    } else {
      timeline.replaceChildren();
    }
    const error = $('mission-error');
    error.hidden = !view.error;
    error.textContent = view.error ? String(view.error) : '';
    renderResults(view);
    renderWorkspace(view);
    if (changed) scrollToEnd();
  }

  function resultRow(label, value) {
    return el('li', { class: 'result' }, el('span', { class: 'result-label', text: label }), value);
  }

  function renderResults(view) {
    const final = FINAL.has(view.status);
    const key = JSON.stringify([view.mission_id, view.status, view.url, view.pr_url, view.branch, view.trace_url, view.updated_at]);
    if (key === state.resultsKey) return;
    state.resultsKey = key;

    const rows = [];
    const preview = safeHref(view.url);
    if (preview) rows.push(resultRow('Live preview', link(preview, preview, 'preview-link')));
    const pr = safeHref(view.pr_url);
    if (pr) {
      rows.push(resultRow('Pull request', link(pr, pr, 'pr-link')));
    } else if (view.branch) {
      rows.push(resultRow('Branch', el('code', { class: 'branch', 'data-testid': 'pr-link', text: String(view.branch) })));
    }
    if (view.trace_url) {
      const trace = safeHref(view.trace_url);
      rows.push(resultRow('Execution trace', trace ? link(trace, 'Open in Step Functions') : el('code', { text: String(view.trace_url) })));
    }
    let badge = null;
    // A consultation cancelled before it was built never ran, so it has no evidence to show.
    if (final && Array.isArray(view.steps) && view.steps.length) {
      badge = el('span', { id: 'evidence-status', class: 'evidence', 'data-testid': 'evidence-status', 'data-state': 'checking' }, 'Checking…');
      const evidence = el('span', { class: 'evidence-row' }, badge);
      const pack = safeHref(`${missionPath(view.mission_id, 'missions/')}/evidence`);
      if (pack) evidence.append(link(pack, 'View the evidence pack'));
      rows.push(resultRow('Evidence', evidence));
    }
    const results = $('results');
    results.replaceChildren(...(rows.length ? [el('ul', { class: 'result-list' }, ...rows)] : []));
    results.hidden = rows.length === 0;
    if (badge) loadEvidence(view.mission_id, `${view.mission_id}:${view.updated_at}`, badge);
  }

  // ---- the app workspace: live preview, code, features, repository ---------------------------

  const FEATURE_STATES = { checked: 'built and checked', unchecked: 'built, not checked', missing: 'not built' };
  const CODE_LIMIT = 200000;

  /** A local preview on its own origin (`http://{mission_id}.…/`): the only kind the page frames. */
  function framablePreview(view) {
    const href = safeHref(view.url);
    if (!href || href.startsWith('/')) return null;
    try {
      const url = new URL(href);
      return url.hostname.startsWith(`${view.mission_id}.`) ? url.href : null;
    } catch {
      return null;
    }
  }

  function resetWorkspace() {
    state.workspaceKey = null;
    state.filesKey = null;
    state.files = [];
    $('workspace').hidden = true;
    $('preview-frame').removeAttribute('src');
    $('file-list').replaceChildren();
    $('code-view').textContent = '';
    $('code-path').textContent = '';
    selectTab('preview', { load: false });
  }

  function selectTab(name, { load = true } = {}) {
    for (const tab of ['preview', 'code']) {
      const on = tab === name;
      $(`tab-${tab}`).setAttribute('aria-selected', String(on));
      $(`tab-${tab}`).tabIndex = on ? 0 : -1;
      $(`pane-${tab}`).hidden = !on;
    }
    if (name === 'code' && load && state.missionId) loadFiles(state.missionId);
  }

  function renderFeatures(view) {
    const features = (Array.isArray(view.features) ? view.features : []).filter((f) => f && typeof f.name === 'string');
    $('feature-list').replaceChildren(
      ...features.map((feature) => {
        const key = feature.built && feature.checked ? 'checked' : feature.built ? 'unchecked' : 'missing';
        return el('li', { class: 'feature-result', 'data-state': key }, feature.name,
          el('span', { class: 'feature-state', text: `· ${FEATURE_STATES[key]}` }));
      }),
    );
    $('feature-results').hidden = features.length === 0;
  }

  function renderRepo(view) {
    const git = view.git && typeof view.git === 'object' ? view.git : {};
    $('repo').hidden = typeof view.repo !== 'string';
    $('repo-path').textContent = typeof view.repo === 'string' ? view.repo : '';
    for (const [id, value] of [['repo-clone', git.clone], ['repo-push', git.push]]) {
      $(id).textContent = typeof value === 'string' ? value : '';
      $(id).parentElement.hidden = typeof value !== 'string';
    }
  }

  /** Shown once a build ran to an end: the app as delivered, whatever the outcome. */
  function renderWorkspace(view) {
    const built = Number(view.attempts) > 0 && FINAL.has(view.status) && view.status !== 'BLOCKED';
    const key = JSON.stringify([view.mission_id, view.status, view.url, view.repo, view.features, view.attempts]);
    if (key === state.workspaceKey) return;
    state.workspaceKey = key;
    $('workspace').hidden = !built;
    if (!built) return;
    renderFeatures(view);
    renderRepo(view);
    const frame = $('preview-frame');
    const preview = framablePreview(view);
    const address = safeHref(view.url);
    $('preview-address').textContent = address || 'not deployed';
    $('preview-open').hidden = !address;
    if (address) $('preview-open').setAttribute('href', address);
    frame.hidden = !preview;
    $('preview-note').hidden = !preview;
    if (preview && frame.getAttribute('src') !== preview) frame.setAttribute('src', preview);
    const note = $('preview-none');
    note.hidden = Boolean(preview);
    note.textContent = address
      ? 'This deployment opens in its own tab.'
      : 'This mission was not deployed, so there is no live preview. The code is here and in the download.';
    if (!$('pane-code').hidden) loadFiles(view.mission_id);
  }

  async function loadFiles(id) {
    const key = `${id}:${state.workspaceKey}`;
    if (state.filesKey === key) return;
    state.filesKey = key;
    const generation = state.generation;
    $('file-list').replaceChildren();
    $('code-path').textContent = '';
    $('code-view').textContent = 'Loading…';
    try {
      const { data } = await api('GET', `${missionPath(id, 'missions/')}/files`);
      if (generation !== state.generation) return;
      state.files = (Array.isArray(data.files) ? data.files : []).filter((f) => f && typeof f.path === 'string');
      $('file-list').replaceChildren(
        ...state.files.map((file, index) =>
          el('li', null, el('button', { type: 'button', class: 'file-button', 'data-index': index, title: file.path, text: file.path }))),
      );
      const index = state.files.findIndex((f) => f.path === 'index.html');
      showFile(Math.max(index, 0));
    } catch (error) {
      if (generation !== state.generation) return;
      state.filesKey = null;
      $('code-view').textContent = error.status === 404 ? 'There are no delivered files yet.' : 'The files could not be loaded.';
      if (error.status === 401) handleError(error);
    }
  }

  function showFile(index) {
    const file = state.files[index];
    for (const button of document.querySelectorAll('.file-button')) {
      if (Number(button.dataset.index) === index) button.setAttribute('aria-current', 'true');
      else button.removeAttribute('aria-current');
    }
    $('code-path').textContent = file ? file.path : '';
    const content = file && typeof file.content === 'string' ? file.content : '';
    $('code-view').textContent = content.length > CODE_LIMIT
      ? `${content.slice(0, CODE_LIMIT)}\n… (${formatBytes(content.length)} in all: download the zip for the rest)`
      : content;
  }

  /** The zip comes with the bearer token, so it is fetched and handed over as a blob. */
  async function downloadApp() {
    const id = state.missionId;
    if (!id) return;
    const button = $('download');
    button.disabled = true;
    try {
      let response;
      try {
        response = await fetch(`${missionPath(id, 'missions/')}/download`, {
          headers: { Authorization: `Bearer ${state.token}` },
          credentials: 'omit',
          cache: 'no-store',
        });
      } catch {
        throw new ApiError(0, 'network', 'Gantry could not be reached. Check that it is running, then try again.');
      }
      if (!response.ok) throw toApiError(response, await readJson(response));
      const disposition = response.headers.get('content-disposition') || '';
      const name = (/filename="([A-Za-z0-9_-]{1,64}\.zip)"/.exec(disposition) || [])[1] || 'app.zip';
      const url = URL.createObjectURL(await response.blob());
      const anchor = el('a', { href: url, download: name, hidden: true });
      document.body.append(anchor);
      anchor.click();
      anchor.remove();
      setTimeout(() => URL.revokeObjectURL(url), 30000);
    } catch (error) {
      handleError(error);
    } finally {
      button.disabled = false;
    }
  }

  async function copyCommand(button) {
    const text = $(button.dataset.copy).textContent;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = 'Copied';
    } catch {
      button.textContent = 'Select and copy';
    }
    setTimeout(() => {
      button.textContent = 'Copy';
    }, 1500);
  }

  async function loadEvidence(id, key, badge) {
    state.evidenceKey = key;
    const generation = state.generation;
    for (let attempt = 0; attempt < 4; attempt += 1) {
      try {
        const { data } = await api('GET', `${missionPath(id, 'missions/')}/evidence`);
        if (generation !== state.generation || state.evidenceKey !== key) return;
        const verification = data.verification || {};
        const valid = verification.valid === true;
        badge.dataset.state = valid ? 'verified' : 'broken';
        badge.textContent = valid ? 'Verified' : 'Broken';
        const errors = Array.isArray(verification.errors) ? verification.errors : [];
        if (!valid && errors.length) badge.after(el('span', { class: 'evidence-error', text: String(errors[0]) }));
        return;
      } catch (error) {
        if (generation !== state.generation) return;
        if (error.status === 404 && attempt < 3) {
          await sleep(1000);
          continue;
        }
        if (error.status === 401) {
          handleError(error);
          return;
        }
        badge.dataset.state = 'missing';
        badge.textContent = error.status === 404 ? 'Not sealed' : 'Not available';
        return;
      }
    }
  }

  function stopPolling() {
    state.pollId += 1;
    clearTimeout(state.pollTimer);
    state.pollTimer = null;
  }

  function startPolling(id) {
    stopPolling();
    const pollId = state.pollId;
    let failures = 0;
    const tick = async () => {
      if (pollId !== state.pollId || state.missionId !== id) return;
      try {
        const { data } = await api('GET', missionPath(id, 'status/'));
        if (pollId !== state.pollId || state.missionId !== id) return;
        failures = 0;
        renderStatus(data);
        if (!IN_FLIGHT.has(data.status)) {
          loadMissions();
          return;
        }
      } catch (error) {
        if (pollId !== state.pollId) return;
        if (error.status === 401 || error.status === 404) {
          handleError(error);
          return;
        }
        failures += 1;
        if (failures === 3) showAlert(`${error.message} Still trying…`);
      }
      state.pollTimer = setTimeout(tick, failures ? Math.min(10000, POLL_MS * 2 ** failures) : POLL_MS);
    };
    tick();
  }

  // ---- missions ------------------------------------------------------------------------------

  function highlightMission() {
    for (const button of document.querySelectorAll('.mission-item')) {
      if (button.dataset.id === state.missionId) button.setAttribute('aria-current', 'true');
      else button.removeAttribute('aria-current');
    }
  }

  async function loadMissions() {
    if (!state.token) return;
    try {
      const { data } = await api('GET', '/gantry/missions?limit=50');
      const missions = Array.isArray(data.missions) ? data.missions : [];
      $('missions').replaceChildren(
        ...missions.map((mission) => {
          const status = String(mission.status || '');
          const button = el(
            'button',
            { type: 'button', class: 'mission-item', 'data-id': mission.mission_id },
            el('span', { class: 'mission-item-title', text: mission.title || 'Untitled mission' }),
            el(
              'span',
              { class: 'mission-item-meta' },
              el('span', { class: 'chip', 'data-tone': statusTone(status), text: STATUS_LABELS[status] || status }),
              el('time', { datetime: mission.created_at, text: formatAge(mission.created_at) }),
            ),
          );
          button.addEventListener('click', () => openMission(String(mission.mission_id)));
          return el('li', null, button);
        }),
      );
      $('missions-empty').hidden = missions.length > 0;
      highlightMission();
    } catch (error) {
      handleError(error);
    }
  }

  async function openMission(id) {
    closeSidebar();
    const generation = resetMissionView();
    state.missionId = id;
    remember(MISSION_KEY, id);
    highlightMission();
    try {
      const [consultation, status] = await Promise.all([
        api('GET', missionPath(id, 'consultation/')),
        api('GET', missionPath(id, 'status/')),
      ]);
      if (generation !== state.generation) return;
      const turns = Array.isArray(consultation.data.conversation) ? consultation.data.conversation : [];
      for (const turn of turns) addTurn(turn.role, String(turn.content || ''), turn.at);
      renderStatus(status.data);
      const view = consultation.data.consultation || {
        status: consultation.data.pending_question ? 'NEEDS_INPUT' : null,
        question: consultation.data.pending_question,
        design_target: consultation.data.design_target,
        design_label: consultation.data.design_label,
        features: [],
      };
      renderConsultation(view, consultation.data.proposal);
      if (IN_FLIGHT.has(status.data.status)) startPolling(id);
    } catch (error) {
      if (generation !== state.generation) return;
      if (error.status === 404) {
        newMission();
        showAlert('That mission could not be found.');
      } else {
        handleError(error);
      }
    }
  }

  async function missionAction(action) {
    const id = state.missionId;
    if (!id) return;
    const button = $(action);
    button.disabled = true;
    try {
      const { data } = await api('POST', `${missionPath(id, 'missions/')}/${action}`);
      if (state.missionId !== id) return;
      state.resultsKey = null;
      renderStatus(data);
      if (IN_FLIGHT.has(data.status)) startPolling(id);
      showAlert(action === 'retry' ? 'Retrying the mission from the start.' : 'The mission was cancelled.', 'info');
      loadMissions();
    } catch (error) {
      handleError(error);
    } finally {
      button.disabled = false;
    }
  }

  // ---- the design image -----------------------------------------------------------------------

  function setAttachmentState(text, tone) {
    const label = $('attachment-state');
    label.textContent = text;
    label.dataset.tone = tone || '';
  }

  function clearAttachment() {
    if (state.image) URL.revokeObjectURL(state.image.preview);
    state.image = null;
    $('attachment').hidden = true;
    $('attachment-thumb').removeAttribute('src');
    $('file').value = '';
  }

  async function uploadImage(file) {
    const { data } = await api('POST', '/gantry/uploads', { content_type: file.type, content_length: file.size });
    const target = safeHref(data.upload_url);
    const method = String(data.method || 'PUT').toUpperCase();
    if (!target || method !== 'PUT' || typeof data.image_key !== 'string') {
      throw new ApiError(0, 'upload', 'Gantry returned an upload address this page cannot use.');
    }
    const headers = {};
    for (const [name, value] of Object.entries(data.headers || {})) {
      // The browser sets the length (and host) itself and refuses to be told.
      if (['content-length', 'host'].includes(name.toLowerCase()) || typeof value !== 'string') continue;
      headers[name] = value;
    }
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) headers['Content-Type'] = file.type;
    let response;
    try {
      response = await fetch(target, { method: 'PUT', headers, body: file, credentials: 'omit', cache: 'no-store' });
    } catch {
      throw new ApiError(0, 'upload', 'The image upload did not get through. Please try attaching it again.');
    }
    if (!response.ok) throw toApiError(response, await readJson(response));
    return data.image_key;
  }

  function chooseImage(file) {
    if (!file) return;
    const kind = IMAGE_TYPES[file.type];
    if (!kind) {
      showAlert(`“${file.name}” is not a PNG, JPEG, WebP or GIF image, so it cannot be used as a design.`);
      return;
    }
    if (file.size === 0) {
      showAlert(`“${file.name}” is empty.`);
      return;
    }
    if (file.size > MAX_IMAGE_BYTES) {
      showAlert(`“${file.name}” is ${formatBytes(file.size)}; a design image can be at most 5 MiB.`);
      return;
    }
    clearAttachment();
    clearAlert();
    const image = { file, preview: URL.createObjectURL(file), key: null, error: null, upload: null };
    image.upload = uploadImage(file).then(
      (key) => {
        image.key = key;
        if (state.image === image) setAttachmentState('Ready to send', 'ready');
        return key;
      },
      (error) => {
        image.error = error;
        if (state.image === image) {
          setAttachmentState('Upload failed', 'error');
          handleError(error);
        }
        throw error;
      },
    );
    // Failures are reported above; the promise is awaited again when the message is sent.
    image.upload.catch(() => {});
    state.image = image;
    $('attachment-thumb').src = image.preview;
    $('attachment-thumb').alt = 'Preview of the design image';
    $('attachment-name').textContent = `${file.name} · ${kind}, ${formatBytes(file.size)}`;
    setAttachmentState('Uploading…', 'busy');
    $('attachment').hidden = false;
  }

  const carriesFiles = (event) => Array.from((event.dataTransfer && event.dataTransfer.types) || []).includes('Files');

  function bindDragAndDrop() {
    const chat = $('chat');
    const zone = $('dropzone');
    let depth = 0;
    chat.addEventListener('dragenter', (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth += 1;
      zone.hidden = false;
    });
    chat.addEventListener('dragover', (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = 'copy';
    });
    chat.addEventListener('dragleave', (event) => {
      if (!carriesFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) zone.hidden = true;
    });
    chat.addEventListener('drop', (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth = 0;
      zone.hidden = true;
      chooseImage(event.dataTransfer.files[0]);
      $('message').focus();
    });
    // A file dropped beside the chat must not replace the page with the file.
    for (const type of ['dragover', 'drop']) {
      window.addEventListener(type, (event) => {
        if (carriesFiles(event)) event.preventDefault();
      });
    }
  }

  // ---- sending ----------------------------------------------------------------------------------

  function autoGrow() {
    const box = $('message');
    box.style.height = 'auto';
    box.style.height = `${Math.min(box.scrollHeight, 220)}px`;
  }

  function setSending(on) {
    state.sending = on;
    $('send').disabled = on;
    $('proceed').disabled = on;
    $('composer').setAttribute('aria-busy', on ? 'true' : 'false');
  }

  /** Sends one turn. `fromBox`: the text is the message box's, so the box empties as it goes. */
  async function send(text, { fromBox = false } = {}) {
    if (state.sending) return;
    const typed = text.trim();
    const image = state.image;
    if (!typed && !image) {
      showAlert('Type a message first.', 'info');
      $('message').focus();
      return;
    }
    if (state.missionId && state.status && state.status !== 'AWAITING_INPUT') {
      // The shown mission is past its consultation: a new message starts a new one.
      newMission();
    }
    const message = typed || IMAGE_ONLY_MESSAGE;
    const generation = state.generation;
    clearAlert();
    setSending(true);
    const box = $('message');
    const draft = fromBox ? box.value : '';
    if (fromBox) {
      box.value = '';
      autoGrow();
    }
    resetHint();
    const bubble = addTurn('user', message, new Date().toISOString(), image ? image.file.name : null);
    setTyping(true);
    try {
      const body = { message };
      if (state.missionId) body.mission_id = state.missionId;
      if (image) body.image_key = await image.upload;
      const { status, data } = await api('POST', '/gantry/consult', body);
      if (generation !== state.generation) return;
      if (state.image === image) clearAttachment();
      const started = state.missionId !== data.mission_id;
      state.missionId = String(data.mission_id);
      remember(MISSION_KEY, state.missionId);
      setTyping(false);
      addTurn('assistant', String(data.response || data.speech || ''), new Date().toISOString());
      state.status = data.status;
      setBadge(data.status);
      setActions(data.status);
      setPlaceholder();
      renderConsultation(data.consultation, null);
      if (status === 202 || IN_FLIGHT.has(data.status)) {
        startPolling(state.missionId);
      } else {
        refreshStatus(state.missionId, generation);
      }
      if (started || status === 202) loadMissions();
    } catch (error) {
      if (generation !== state.generation) return;
      bubble.remove();
      if (!$('conversation').children.length) $('welcome').hidden = false;
      if (draft && !box.value) {
        box.value = draft;
        autoGrow();
      }
      handleError(error);
    } finally {
      setTyping(false);
      setSending(false);
    }
  }

  /** One status read after a turn, for the title and the actions the status allows. */
  async function refreshStatus(id, generation) {
    try {
      const { data } = await api('GET', missionPath(id, 'status/'));
      if (generation === state.generation && state.missionId === id) renderStatus(data);
    } catch (error) {
      if (error.status === 401) handleError(error);
    }
  }

  function resetHint() {
    $('composer-hint').textContent = 'Enter sends · Shift+Enter adds a new line';
    $('composer-hint').dataset.tone = '';
  }

  function insertIntoBox(text) {
    const box = $('message');
    const current = box.value.trimEnd();
    box.value = current ? `${current}${/[.,;!?]$/.test(current) ? ' ' : ', '}${text}` : text;
    autoGrow();
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  }

  // ---- themes, health, navigation ---------------------------------------------------------------

  async function loadThemes() {
    try {
      const { data } = await api('GET', '/gantry/themes', undefined, { auth: false });
      const themes = Array.isArray(data.themes) ? data.themes : [];
      $('theme-list').replaceChildren(
        ...themes.map((theme) => {
          const name = String(theme.name || theme.id || '');
          const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' });
          const colors = theme.colors || {};
          for (const key of ['background', 'primary', 'accent']) {
            if (!isColor(colors[key])) continue;
            const dot = el('span', { class: 'swatch-dot' });
            dot.style.backgroundColor = colors[key];
            swatch.append(dot);
          }
          const button = el(
            'button',
            { type: 'button', class: 'theme', title: theme.description ? String(theme.description) : null },
            swatch,
            el('span', { class: 'theme-name', text: name }),
          );
          button.setAttribute('aria-label', `Make it look like ${name}`);
          button.addEventListener('click', () => insertIntoBox(`make it look like ${name}`));
          return el('li', null, button);
        }),
      );
      $('themes').hidden = themes.length === 0;
    } catch {
      $('themes').hidden = true;
    }
  }

  async function loadHealth() {
    try {
      const { data } = await api('GET', '/health', undefined, { auth: false });
      const parts = [data.mode, data.version ? `v${data.version}` : null].filter(Boolean).map(String);
      $('mode').textContent = parts.join(' · ');
    } catch {
      $('mode').textContent = '';
    }
  }

  function closeSidebar() {
    document.body.classList.remove('nav-open');
    $('menu-toggle').setAttribute('aria-expanded', 'false');
    $('menu-toggle').setAttribute('aria-label', 'Show missions');
    $('backdrop').hidden = true;
  }

  function toggleSidebar() {
    const open = !document.body.classList.contains('nav-open');
    document.body.classList.toggle('nav-open', open);
    $('menu-toggle').setAttribute('aria-expanded', String(open));
    $('menu-toggle').setAttribute('aria-label', open ? 'Hide missions' : 'Show missions');
    $('backdrop').hidden = !open;
    if (open) {
      const first = document.querySelector('.mission-item') || $('refresh-missions');
      first.focus();
    }
  }

  // ---- wiring -----------------------------------------------------------------------------------

  function bind() {
    $('login-form').addEventListener('submit', signIn);
    $('logout').addEventListener('click', logOut);
    $('new-mission').addEventListener('click', () => {
      closeSidebar();
      newMission();
      $('message').focus();
    });
    $('refresh-missions').addEventListener('click', loadMissions);
    $('menu-toggle').addEventListener('click', toggleSidebar);
    $('backdrop').addEventListener('click', closeSidebar);
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && document.body.classList.contains('nav-open')) {
        closeSidebar();
        $('menu-toggle').focus();
      }
    });

    $('composer').addEventListener('submit', (event) => {
      event.preventDefault();
      send($('message').value, { fromBox: true });
    });
    $('message').addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && !event.altKey) {
        event.preventDefault();
        $('composer').requestSubmit();
      }
    });
    $('message').addEventListener('input', autoGrow);
    NARROW.addEventListener('change', setPlaceholder);

    $('attach').addEventListener('click', () => $('file').click());
    $('file').addEventListener('change', () => chooseImage($('file').files[0]));
    $('attachment-remove').addEventListener('click', () => {
      clearAttachment();
      $('message').focus();
    });
    bindDragAndDrop();

    $('proceed').addEventListener('click', () => send(PROCEED_MESSAGE));
    $('change').addEventListener('click', () => {
      const hint = $('composer-hint');
      hint.textContent = 'Tell Gantry what to change, e.g. “add categories” or “make it look like Notion”. It will revise the plan before building.';
      hint.dataset.tone = 'hint';
      $('message').focus();
    });
    $('tab-preview').addEventListener('click', () => selectTab('preview'));
    $('tab-code').addEventListener('click', () => selectTab('code'));
    $('download').addEventListener('click', downloadApp);
    $('preview-reload').addEventListener('click', () => {
      const frame = $('preview-frame');
      const src = frame.getAttribute('src');
      if (src) frame.setAttribute('src', src);
    });
    $('file-list').addEventListener('click', (event) => {
      const button = event.target.closest('.file-button');
      if (button) showFile(Number(button.dataset.index));
    });
    for (const button of document.querySelectorAll('.copy')) button.addEventListener('click', () => copyCommand(button));
    $('retry').addEventListener('click', () => missionAction('retry'));
    $('cancel').addEventListener('click', () => missionAction('cancel'));
    for (const example of document.querySelectorAll('.example')) {
      example.addEventListener('click', () => {
        $('message').value = example.textContent;
        autoGrow();
        $('message').focus();
      });
    }
  }

  function start() {
    bind();
    const session = storedSession();
    if (session) {
      state.token = session.token;
      enterApp();
    } else {
      remember(SESSION_KEY, null);
      $('login-view').hidden = false;
      $('password').focus();
    }
  }

  start();
})();
