/* The process editor: the bpmn-js Modeler (from npm) with the Brobygger sidebar and form
   editor. Drafts are saved on the server as you work; Validate and Deploy send the model,
   its forms and the lane map to the server, which runs the deploy-time checks. Problems
   are marked on their elements (marker + message overlay) and listed. */
(function () {
  "use strict";
  const B = (window.Brobygger = window.Brobygger || {});
  const SPIFFWORKFLOW_MODDLE = {
    name: "SpiffWorkflow", uri: "http://spiffworkflow.org/bpmn/schema/1.0/core", prefix: "spiffworkflow",
    xml: { tagAlias: "lowerCase" },
    types: [
      { name: "Properties", superClass: ["Element"], properties: [{ name: "properties", type: "Property", isMany: true }] },
      { name: "Property", superClass: ["Element"], properties: [
        { name: "name", type: "String", isAttr: true }, { name: "value", type: "String", isAttr: true }] },
    ],
  };
  const AUTOSAVE_MS = 1500;
  // Unsaved work kept in the tab (sessionStorage) across a single sign-on check: a save past
  // OIDC_RECHECK_MINUTES answers 403 with this header (accounts.middleware.SingleSignOnRecheck),
  // and the page must reload to go by the provider. Kept for its user and process only, for an
  // hour at most; signing out clears it (Clear-Site-Data: "storage").
  const RECHECK_HEADER = "X-Brobygger-Recheck";
  const KEPT_PREFIX = "brobygger.editor.kept:";
  const KEPT_MS = 60 * 60 * 1000;

  function keptName(config) {
    return KEPT_PREFIX + config.user + ":" + (config.key || "");
  }

  // The work a tab kept for this user and process before a reload (taken: read once).
  function takeKept(config) {
    try {
      const name = keptName(config);
      const kept = JSON.parse(window.sessionStorage.getItem(name) || "null");
      window.sessionStorage.removeItem(name);
      if (kept && typeof kept.bpmn_xml === "string" && Date.now() - kept.at < KEPT_MS) { return kept; }
    } catch (e) { /* storage off or unreadable: nothing kept */ }
    return null;
  }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function start() {
    const root = document.getElementById("editor");
    if (!root || typeof window.BpmnJS !== "function") { return; }
    const config = JSON.parse(document.getElementById("editor-config").textContent);
    const kept = takeKept(config);
    if (kept) { Object.assign(config, { bpmn_xml: kept.bpmn_xml, forms: kept.forms, lanes: kept.lanes, routing: kept.routing }); }
    const result = document.getElementById("editor-result");
    const status = document.getElementById("draft-status");
    const issuesCard = document.getElementById("issues-card");
    const issuesList = document.getElementById("issues");
    const formCard = document.getElementById("form-editor-card");
    let saveTimer = null;
    let pristine = { xml: kept ? null : config.bpmn_xml, fromDraft: config.from_draft };
    // The draft this editor started from or last saved (null: none). A save after someone
    // else's answers 409: autosave stops, and only a click on "Save draft" replaces their work.
    // The editor keeps its own base through a 409: ``theirs`` holds the colleague's draft the
    // 409 named, and the action ("save" or "discard") whose warning named it. Only a click on
    // that same action, after its own warning, acts on their draft: "Discard" after a refused
    // save still answers 409 once (their draft is not the one this editor saw), and a deploy
    // keeps their draft.
    let draftBase = kept ? kept.base : config.draft_saved_at;
    let rechecking = false;
    let conflicted = false;
    let theirs = null;

    function baseFor(action) {
      return theirs && theirs.action === action ? theirs.base : draftBase;
    }

    function refused(action, data) {
      theirs = { action, base: data.current };
      conflicted = true;
      status.dataset.conflict = "true";
      status.dataset.refused = action;
    }

    function settled(base) {
      draftBase = base;
      theirs = null;
      conflicted = false;
      status.dataset.refused = "";
    }

    const ctx = {
      key: config.key, forms: config.forms || {}, lanes: config.lanes || {}, categories: config.categories,
      routing: config.routing || {}, converted: config.converted_forms || [],
      agencyKinds: config.agency_kinds, laneAliases: config.lane_aliases, urls: JSON.parse(root.dataset.urls),
      changed: () => scheduleSave(),
      post(url, body, as) {
        return fetch(url, {
          method: "POST", credentials: "same-origin", body: JSON.stringify(body),
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json" },
        }).then((response) => {
          if (response.status === 403 && response.headers.get(RECHECK_HEADER)) { return keepAndReload(); }
          return as === "text" ? response.text() : response.json().then((data) => ({ status: response.status, data }));
        });
      },
    };

    const modeler = new window.BpmnJS({ container: document.getElementById("modeler"),
      moddleExtensions: { spiffworkflow: SPIFFWORKFLOW_MODDLE } });
    const sidebar = B.Sidebar(modeler, document.getElementById("sidebar"), ctx);
    const formEditor = B.FormEditor(document.getElementById("form-editor"), document.getElementById("form-preview"), ctx);
    ctx.openForm = (name, element) => {
      formCard.hidden = !name;
      if (!name) { return; }
      document.getElementById("form-editor-title").textContent = B.t("Form %(form)s", { form: name }) +
        (element ? " – " + (element.businessObject.name || element.id) : "");
      formEditor.open(name);
    };

    // ``outcome`` names the result for programs and tests, whatever the language: validating,
    // valid, invalid, deploying, deployed, unchanged, refused, imported, import-failed.
    function show(message, kind, outcome) {
      result.className = "editor-result " + (kind || "");
      result.dataset.outcome = outcome || "";
      result.replaceChildren(...(Array.isArray(message) ? message : [document.createTextNode(message)]));
    }

    // Single sign-on is due to be checked again: the work goes into the tab, the page reloads
    // (by the provider, and back), and ``takeKept`` gives it back and saves it. Until
    // 2026-12-06 the editor only showed the 403's text, and the reload lost what was unsaved.
    function keepAndReload() {
      if (!rechecking) {
        rechecking = true;
        clearTimeout(saveTimer);
        saveTimer = null;
        content().then((body) => {
          const work = { ...body, base: draftBase, at: Date.now() };
          try { window.sessionStorage.setItem(keptName(config), JSON.stringify(work)); } catch (e) { rechecking = false; return; }
          show(B.t("Single sign-on must be checked again: your changes are kept in this tab and come back once the page has reloaded."), "", "rechecking");
          window.location.reload();
        });
      }
      return new Promise(() => {});  // the caller's answer never comes: the page goes
    }

    function content() {
      return modeler.saveXML({ format: true }).then(({ xml }) => ({
        key: ctx.key,
        // Unchanged since it was loaded: send the stored text, so an unchanged deploy is recognised.
        bpmn_xml: pristine.xml !== null ? pristine.xml : xml,
        forms: ctx.forms, lanes: ctx.lanes, routing: ctx.routing,
      }));
    }

    // ``chosen``: a click on "Save draft" (after a refused save, the choice to replace their
    // draft); autosave and the save on leaving the page keep the editor's own base.
    function saveDraft(chosen) {
      clearTimeout(saveTimer);
      saveTimer = null;
      const base = chosen ? baseFor("save") : draftBase;
      return content().then((body) => ctx.post(ctx.urls.draft, { ...body, base })).then(({ status: code, data }) => {
        if (code === 200) {
          settled(data.updated_at);
        } else if (code === 409 && data.current) {
          refused("save", data);
        }
        status.textContent = code === 200 ? B.t("Draft saved %(when)s", { when: data.updated_at_display }) : (data.detail || B.t("Draft not saved"));
        status.dataset.saved = code === 200 ? data.updated_at : "";
        status.dataset.conflict = conflicted ? "true" : "";
      });
    }

    function scheduleSave() {
      pristine.xml = null;
      if (conflicted) { return; }
      status.textContent = B.t("Unsaved changes…");
      clearTimeout(saveTimer);
      saveTimer = setTimeout(saveDraft, AUTOSAVE_MS);
    }

    // --- problems on the diagram -----------------------------------------------------------
    function clearIssues() {
      const overlays = modeler.get("overlays");
      const canvas = modeler.get("canvas");
      overlays.remove({ type: "bb-issue" });
      modeler.get("elementRegistry").forEach((element) => canvas.removeMarker(element, "bb-error"));
      issuesList.replaceChildren();
      issuesCard.hidden = true;
    }

    function showIssues(issues) {
      clearIssues();
      const registry = modeler.get("elementRegistry");
      const canvas = modeler.get("canvas");
      const overlays = modeler.get("overlays");
      issues.forEach((issue) => {
        const element = issue.element_id && registry.get(issue.element_id);
        const item = document.createElement("li");
        item.dataset.elementId = issue.element_id || "";
        item.append(Object.assign(document.createElement("span"), { className: "code", textContent: issue.code }), " ",
          issue.message + (issue.line ? " (" + B.t("line %(line)s", { line: issue.line }) + ")" : ""), " ");
        if (element) {
          canvas.addMarker(element, "bb-error");
          const badge = document.createElement("div");
          badge.className = "bb-issue";
          badge.dataset.elementId = issue.element_id;
          badge.textContent = issue.message;
          badge.title = issue.message;
          overlays.add(element, "bb-issue", { position: { bottom: 4, left: 0 }, html: badge });
          const go = Object.assign(document.createElement("button"), { type: "button", className: "secondary small",
            textContent: B.t("Show %(element)s", { element: issue.element_id }) });
          go.addEventListener("click", () => {
            modeler.get("selection").select(element);
            canvas.scrollToElement(element);
          });
          item.append(go);
        }
        issuesList.append(item);
      });
      issuesCard.hidden = issues.length === 0;
    }

    function validate() {
      show(B.t("Validating…"), "", "validating");
      return content().then((body) => ctx.post(ctx.urls.validate, body)).then(({ status: code, data }) => {
        if (code !== 200) { showIssues(data.errors || []); show(data.detail, "bad", "invalid"); return false; }
        showIssues(data.issues);
        if (data.valid) {
          show(B.t("The model is valid: process %(process)s can be deployed.", { process: data.process_id }), "ok", "valid");
        } else {
          show(B.tn("One problem: fix it before deploying (marked on the diagram and listed below).",
            "%(n)s problems: fix them before deploying (marked on the diagram and listed below).", data.issues.length), "bad", "invalid");
        }
        return data.valid;
      });
    }

    function deploy() {
      show(B.t("Deploying…"), "", "deploying");
      // ``base``: the draft this editor started from is dropped; one another admin saved since is kept.
      return content().then((body) => ctx.post(ctx.urls.deploy, { ...body, base: draftBase })).then(({ status: code, data }) => {
        if (code !== 200 && code !== 201) {
          showIssues((data.errors || []).filter((e) => e.code || e.element_id));
          show(B.t("%(reason)s: nothing was deployed.", { reason: data.detail }), "bad", "refused");
          return null;
        }
        clearIssues();
        const link = Object.assign(document.createElement("a"), { href: data.url, textContent: data.key + " v" + data.version });
        show([document.createTextNode((data.created ? B.t("Deployed as a new version:") : B.t("Identical to the deployed version, nothing new:")) + " "), link],
          "ok", data.created ? "deployed" : "unchanged");
        if (!data.draft_kept) {
          status.textContent = B.t("No draft: this is the deployed version");
          settled(null);
          status.dataset.conflict = "";
        }
        if (ctx.key !== data.key) {
          ctx.key = data.key;
          window.history.replaceState(null, "", data.edit_url);
        }
        return data;
      });
    }

    // --- import and export -----------------------------------------------------------------
    function readFile(file) {
      return file.text().then((text) => {
        if (/\.json$/i.test(file.name)) {
          const data = JSON.parse(text);
          const isSchema = data && (data.properties || data.type);
          Object.assign(ctx.forms, isSchema ? { [file.name]: data } : data);
          return { kind: "forms" };
        }
        return modeler.importXML(text).then(({ warnings }) => {
          modeler.get("canvas").zoom("fit-viewport", "auto");
          return { kind: "bpmn", warnings: warnings || [] };
        });
      });
    }

    document.getElementById("import-file").addEventListener("change", (event) => {
      const files = Array.from(event.target.files || []);
      files.sort((a, b) => (/\.json$/i.test(a.name) ? 1 : 0) - (/\.json$/i.test(b.name) ? 1 : 0));
      files.reduce((chain, file) => chain.then((done) => readFile(file).then((r) => done.concat([[file.name, r]]))), Promise.resolve([]))
        .then((done) => {
          const warnings = done.reduce((n, [, r]) => n + ((r.warnings || []).length), 0);
          show(B.t("Imported %(files)s", { files: done.map(([n]) => n).join(", ") }) +
            (warnings ? " (" + B.tn("%(n)s import warning", "%(n)s import warnings", warnings) + ")" : ""), "ok", "imported");
          clearIssues();
          scheduleSave();
        })
        .catch((error) => show(B.t("The file could not be imported: %(error)s", { error: error.message }), "bad", "import-failed"))
        .finally(() => { event.target.value = ""; });
    });

    document.getElementById("export-bpmn").addEventListener("click", () => {
      modeler.saveXML({ format: true }).then(({ xml }) => {
        const link = document.createElement("a");
        link.href = URL.createObjectURL(new Blob([xml], { type: "application/xml" }));
        link.download = (ctx.key || "process") + ".bpmn";
        document.body.append(link);
        link.click();
        link.remove();
      });
    });

    document.getElementById("validate").addEventListener("click", validate);
    document.getElementById("deploy").addEventListener("click", deploy);
    document.getElementById("save-draft").addEventListener("click", () => saveDraft(true));
    document.getElementById("discard-draft").addEventListener("click", () => {
      clearTimeout(saveTimer);
      // ``base``: only the draft this editor started from is dropped. A colleague's saved
      // since answers 409 and stays; a second click (with the base that 409 named) drops it.
      // A refused save's 409 is no such warning: the first click sends the editor's own base.
      ctx.post(ctx.urls.discard, { key: ctx.key, base: baseFor("discard") }).then(({ status: code, data }) => {
        if (code === 200) { window.location.reload(); return; }
        if (code === 409 && data.current) { refused("discard", data); }
        status.textContent = data.detail || B.t("Draft not discarded");
      });
    });
    window.addEventListener("beforeunload", () => { if (saveTimer) { saveDraft(); } });

    modeler.on("commandStack.changed", scheduleSave);
    modeler.on("selection.changed", (event) => {
      const element = event.newSelection.length === 1 ? event.newSelection[0] : null;
      const form = element && B.getProperty && B.getProperty(element.businessObject, "formJsonSchemaFilename");
      if (form && ctx.forms[form]) { ctx.openForm(form, element); } else if (!element || element.type !== "label") { formCard.hidden = true; }
    });

    modeler.importXML(config.bpmn_xml).then(({ warnings }) => {
      modeler.get("canvas").zoom("fit-viewport", "auto");
      sidebar.render(null);
      root.dataset.ready = "true";
      if (warnings && warnings.length) { show(B.tn("%(n)s import warning", "%(n)s import warnings", warnings.length), "", "imported"); }
      if (kept) {
        show(B.t("Your changes from before single sign-on was checked again are back."), "", "restored");
        saveDraft(false);
      }
    }).catch((error) => show(B.t("The diagram could not be drawn: %(error)s", { error: error.message }), "bad", "import-failed"));

    B.editor = { modeler, ctx, validate, deploy, saveDraft, sidebar };
    window.brobyggerEditor = B.editor;
  }

  document.addEventListener("DOMContentLoaded", start);
})();
