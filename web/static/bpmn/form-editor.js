/* The form editor: a user task's JSON schema as a table of fields (name, title, type,
   options, required, x-category), with a live preview rendered by the server from the
   task page's own field partial, so the preview is the form the agency will see. */
(function () {
  "use strict";
  const B = (window.Brobygger = window.Brobygger || {});
  const el = B.el; // sidebar.js, loaded first
  const TYPES = [
    ["text", "text"], ["longtext", "long text"], ["date", "date"], ["time", "time of day"],
    ["datetime", "date and time"], ["integer", "whole number"], ["number", "number"], ["boolean", "yes/no"],
    ["choice", "choice"],
  ];
  // The JSON Schema format of each kind of text field the task page draws as its own input
  // (web/schema_forms.py): a date picker, a time of day (sent with Oslo's offset), a date and time.
  const FORMATS = { date: "date", time: "time", datetime: "date-time" };

  function typeOf(prop) {
    if (Array.isArray(prop.enum)) { return "choice"; }
    const type = Array.isArray(prop.type) ? prop.type.find((t) => t !== "null") : prop.type;
    if (type === "boolean" || type === "integer" || type === "number") { return type; }
    const kind = Object.keys(FORMATS).find((k) => FORMATS[k] === prop.format);
    if (kind) { return kind; }
    return (prop.maxLength || 0) > 300 ? "longtext" : "text";
  }

  function withType(prop, kind, options) {
    const next = Object.assign({}, prop);
    ["enum", "format", "maxLength"].forEach((key) => delete next[key]);
    // A date range (formatMinimum/formatMaximum) belongs to dates and date-times only.
    if (kind !== "date" && kind !== "datetime") { ["formatMinimum", "formatMaximum"].forEach((key) => delete next[key]); }
    next.type = { boolean: "boolean", integer: "integer", number: "number" }[kind] || "string";
    if (FORMATS[kind]) { next.format = FORMATS[kind]; }
    if (kind === "longtext") { next.maxLength = 2000; }
    if (kind === "choice") { next.enum = options.length ? options : ["a", "b"]; }
    return next;
  }

  B.FormEditor = function (container, preview, ctx) {
    let name = null;
    let timer = null;

    function schema() { return ctx.forms[name]; }

    function refreshPreview() {
      clearTimeout(timer);
      timer = setTimeout(() => {
        ctx.post(ctx.urls.preview, { schema: schema() }, "text").then((html) => { preview.innerHTML = html; });
      }, 250);
    }

    function update(mutate) {
      mutate(schema());
      ctx.changed();
      refreshPreview();
    }

    function rename(oldName, newName) {
      if (!newName || newName === oldName || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(newName)) { return false; }
      update((s) => {
        const props = {};
        Object.entries(s.properties).forEach(([key, value]) => { props[key === oldName ? newName : key] = value; });
        s.properties = props;
        s.required = (s.required || []).map((r) => (r === oldName ? newName : r));
      });
      return true;
    }

    function row(fieldName, prop, required) {
      const kind = typeOf(prop);
      const id = "ff-" + fieldName;
      const setProp = (change) => update((s) => { s.properties[fieldName] = change(s.properties[fieldName]); });
      const input = (suffix, label, value, onchange, attrs) => el("td", {}, [el("input", Object.assign({
        type: "text", id: id + "-" + suffix, value: value || "", "aria-label": label + " (" + fieldName + ")",
        onchange: (e) => onchange(e.target.value.trim()),
      }, attrs || {}))]);
      const sel = (suffix, label, options, value, onchange) => el("td", {}, [el("select", {
        id: id + "-" + suffix, "aria-label": label + " (" + fieldName + ")", onchange: (e) => onchange(e.target.value),
      }, options.map(([v, l]) => el("option", { value: v, text: l, selected: v === value })))]);
      return el("tr", { "data-field": fieldName }, [
        input("name", B.t("Field name"), fieldName, (value) => { if (!rename(fieldName, value)) { render(); } else { render(); } }),
        input("title", B.t("Title"), prop.title, (value) => setProp((p) => Object.assign({}, p, { title: value || undefined }))),
        sel("type", B.t("Type"), TYPES.map(([v, l]) => [v, B.t(l)]), kind, (value) => {
          setProp((p) => withType(p, value, []));
          render();
        }),
        input("options", B.t("Choices (comma-separated)"), (prop.enum || []).join(", "), (value) => {
          setProp((p) => withType(p, "choice", value.split(",").map((v) => v.trim()).filter(Boolean)));
          render();
        }, { disabled: kind !== "choice", placeholder: kind === "choice" ? "" : "–" }),
        el("td", {}, [el("input", {
          type: "checkbox", id: id + "-required", "aria-label": B.t("Required") + " (" + fieldName + ")", checked: required,
          onchange: (e) => update((s) => {
            s.required = (s.required || []).filter((r) => r !== fieldName);
            if (e.target.checked) { s.required.push(fieldName); }
          }),
        })]),
        sel("category", B.t("Data category"), [["", B.t("restricted (none)")]].concat(ctx.categories.map((c) => [c, B.t(c)])),
          prop["x-category"] || "", (value) => setProp((p) => {
            const next = Object.assign({}, p);
            if (value) { next["x-category"] = value; } else { delete next["x-category"]; }
            return next;
          })),
        el("td", {}, [el("button", {
          type: "button", class: "secondary small danger", text: B.t("Remove"), "aria-label": B.t("Remove %(field)s", { field: fieldName }),
          onclick: () => { update((s) => { delete s.properties[fieldName]; s.required = (s.required || []).filter((r) => r !== fieldName); }); render(); },
        })]),
      ]);
    }

    function render() {
      if (!name || !schema()) { container.replaceChildren(); preview.replaceChildren(); return; }
      const s = schema();
      s.properties = s.properties || {};
      const required = new Set(s.required || []);
      const head = ["Field name", "Title", "Type", "Choices", "Required", "Data category", ""].map((h) => el("th", { scope: "col", text: h && B.t(h) }));
      const table = el("table", { class: "form-fields" }, [el("thead", {}, [el("tr", {}, head)]),
        el("tbody", {}, Object.entries(s.properties).map(([key, prop]) => row(key, prop || {}, required.has(key))))]);
      const add = el("button", { type: "button", class: "secondary", id: "ff-add", text: B.t("Add a field"), onclick: () => {
        let n = Object.keys(s.properties).length + 1;
        while (s.properties["field_" + n]) { n += 1; }
        update((target) => { target.properties["field_" + n] = { type: "string", title: B.t("New field") }; });
        render();
        const inputs = container.querySelectorAll("tbody tr:last-child input");
        if (inputs.length) { inputs[0].focus(); inputs[0].select(); }
      } });
      const title = el("div", { class: "field" }, [el("label", { for: "ff-form-title", text: B.t("Form title") }),
        el("input", { type: "text", id: "ff-form-title", value: s.title || "", onchange: (e) => update((t) => { t.title = e.target.value.trim(); }) })]);
      container.replaceChildren(title, el("div", { class: "table-wrap" }, [table]), el("p", {}, [add]));
      refreshPreview();
    }


    return {
      open(formName) { name = formName; render(); return name; },
      get name() { return name; },
    };
  };
})();
