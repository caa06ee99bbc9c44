/* The Brobygger properties sidebar for the bpmn-js modeler: what the engine reads from a
   model, edited through the modeler's own commands (modeling.updateProperties /
   updateModdleProperties), so undo and redo work: names, the process id, lane -> agency
   kind, a user task's form file and dueIn, timers, message names, conditions and
   default flows. (bpmn-js-properties-panel would need a bundler for a custom provider.) */
(function () {
  "use strict";
  const B = (window.Brobygger = window.Brobygger || {});
  const SPIFF = "spiffworkflow";
  const TIMER_KINDS = ["timeDuration", "timeDate", "timeCycle"];

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([key, value]) => {
      if (value === undefined || value === null || value === false) { return; }
      if (key === "text") { node.textContent = value; } else if (key.startsWith("on")) {
        node.addEventListener(key.slice(2), value);
      } else { node.setAttribute(key, value === true ? "" : value); }
    });
    (children || []).forEach((child) => child && node.appendChild(child));
    return node;
  }
  B.el = el; // shared with form-editor.js

  function field(id, label, control, hint) {
    return el("div", { class: "field" }, [
      el("label", { for: id, text: label }), hint ? el("p", { class: "hint", text: hint }) : null, control,
    ]);
  }

  function textInput(id, value, onchange, attrs) {
    return el("input", Object.assign({ type: "text", id: id, value: value || "", onchange: (e) => onchange(e.target.value.trim()) }, attrs));
  }

  function select(id, options, selected, onchange) {
    return el("select", { id: id, onchange: (e) => onchange(e.target.value) },
      options.map(([value, label]) => el("option", { value: value, text: label, selected: value === selected })));
  }

  B.normalizeLaneName = (name) => (name || "").split(/\s+/).filter(Boolean).join(" ").toLowerCase();

  B.laneKind = function (ctx, name) {
    if (!name) { return null; }
    if (ctx.lanes[name]) { return ctx.lanes[name]; }
    const wanted = B.normalizeLaneName(name);
    const explicit = Object.keys(ctx.lanes).find((key) => B.normalizeLaneName(key) === wanted);
    return explicit ? ctx.lanes[explicit] : (ctx.laneAliases[wanted] || null);
  };

  B.Sidebar = function (modeler, container, ctx) {
    const modeling = modeler.get("modeling");
    const moddle = modeler.get("moddle");
    const canvas = modeler.get("canvas");
    const registry = modeler.get("elementRegistry");
    let current = null;

    // --- spiffworkflow:properties (form file name, dueIn) ---------------------------------
    function spiffProperties(bo) {
      const values = (bo.extensionElements && bo.extensionElements.get("values")) || [];
      return values.find((value) => value.$instanceOf(SPIFF + ":Properties")) || null;
    }

    function getProperty(bo, name) {
      const props = spiffProperties(bo);
      const prop = props && props.get("properties").find((p) => p.name === name);
      return prop ? prop.value : "";
    }

    function setProperty(element, name, value) {
      const bo = element.businessObject;
      let ext = bo.extensionElements;
      if (!ext) {
        ext = moddle.create("bpmn:ExtensionElements", { values: [] });
        modeling.updateProperties(element, { extensionElements: ext });
      }
      let props = spiffProperties(bo);
      if (!props) {
        props = moddle.create(SPIFF + ":Properties", { properties: [] });
        modeling.updateModdleProperties(element, ext, { values: ext.get("values").concat(props) });
      }
      const list = props.get("properties");
      const prop = list.find((p) => p.name === name);
      if (!value) {
        if (prop) { modeling.updateModdleProperties(element, props, { properties: list.filter((p) => p !== prop) }); }
      } else if (prop) {
        modeling.updateModdleProperties(element, prop, { value: value });
      } else {
        const created = moddle.create(SPIFF + ":Property", { name: name, value: value });
        modeling.updateModdleProperties(element, props, { properties: list.concat(created) });
      }
    }
    B.getProperty = getProperty;

    // --- sections ------------------------------------------------------------------------
    function nameSection(element) {
      const bo = element.businessObject;
      return field("bb-name", B.t("Name"), textInput("bb-name", bo.name, (value) => {
        const before = bo.name;
        modeling.updateLabel(element, value);
        if (bo.$instanceOf("bpmn:Lane") && before && ctx.lanes[before] && before !== value) {
          ctx.lanes[value] = ctx.lanes[before];
          delete ctx.lanes[before];
          ctx.changed();
        }
      }));
    }

    function processSection(element, process) {
      const owner = element.businessObject.$instanceOf("bpmn:Participant") ? element : canvas.getRootElement();
      return [
        el("h3", { text: B.t("Process") }),
        field("bb-process-id", B.t("Process id (the key)"), textInput("bb-process-id", process.id, (value) => {
          if (/^[A-Za-z_][\w.-]*$/.test(value)) { modeling.updateModdleProperties(owner, process, { id: value }); }
        }), B.t("Letters, digits and _ . -; a new id deploys as a new process.")),
        field("bb-process-name", B.t("Process name"), textInput("bb-process-name", process.name,
          (value) => modeling.updateModdleProperties(owner, process, { name: value }))),
      ];
    }

    // --- routing (issue 14): the import's routing map, for what no lane routes -------------
    // The engine's order (bpmn/engine/routing.py): lane, candidate groups, assignee, pool,
    // the process's default. The map lives in ctx.routing and travels with the draft.
    function kindOptions(empty) { return [["", empty]].concat(ctx.agencyKinds.map((kind) => [kind, kind])); }

    function mapped(section, name) {
      const part = ctx.routing[section] || {};
      if (part[name]) { return part[name]; }
      const wanted = B.normalizeLaneName(name);
      const key = Object.keys(part).find((k) => B.normalizeLaneName(k) === wanted);
      return key ? part[key] : null;
    }

    function setMapped(section, name, kind) {
      const part = Object.assign({}, ctx.routing[section] || {});
      if (kind) { part[name] = kind; } else { delete part[name]; }
      if (Object.keys(part).length) { ctx.routing[section] = part; } else { delete ctx.routing[section]; }
      ctx.changed();
    }

    function mapSelect(element, id, section, name, label) {
      return field(id, label, select(id, kindOptions(B.t("– not mapped –")), mapped(section, name) || "", (value) => {
        setMapped(section, name, value);
        render(element);
      }));
    }

    // Camunda's, Activiti's and Flowable's attributes alike: the local name is what counts.
    function extensionAttribute(bo, local) {
      const attrs = bo.$attrs || {};
      const key = Object.keys(attrs).find((k) => k.includes(":") && k.split(":").pop() === local);
      return key ? String(attrs[key]).trim() : "";
    }

    function poolOf(bo) {
      let process = bo.$parent;
      while (process && !process.$instanceOf("bpmn:Process")) { process = process.$parent; }
      const pool = registry.filter((shape) => shape.type === "bpmn:Participant" && shape.businessObject.processRef === process)[0];
      return pool ? pool.businessObject.name || "" : "";
    }

    function routed(bo, laneName, groups, assignee, pool) {
      const lane = B.laneKind(ctx, laneName);
      if (lane) { return B.t("%(kind)s, by the lane %(name)s", { kind: lane, name: laneName }); }
      for (const group of groups) {
        const kind = mapped("groups", group) || ctx.laneAliases[B.normalizeLaneName(group)];
        if (kind) { return B.t("%(kind)s, by the candidate group %(name)s", { kind: kind, name: group }); }
      }
      if (assignee && mapped("assignees", assignee)) {
        return B.t("%(kind)s, by the assignee %(name)s", { kind: mapped("assignees", assignee), name: assignee });
      }
      const poolKind = pool && (mapped("pools", pool) || ctx.laneAliases[B.normalizeLaneName(pool)]);
      if (poolKind) { return B.t("%(kind)s, by the pool %(name)s", { kind: poolKind, name: pool }); }
      if (ctx.routing.default) { return B.t("%(kind)s, the process's default", { kind: ctx.routing.default }); }
      return B.t("no agency: map a name above, or choose a default agency kind on the process");
    }

    function routingSection(element, laneName) {
      const bo = element.businessObject;
      const groups = extensionAttribute(bo, "candidateGroups").split(",").map((g) => g.trim()).filter(Boolean);
      const assignee = extensionAttribute(bo, "assignee");
      const parts = groups.map((group, i) => mapSelect(element, "bb-group-kind-" + i, "groups", group,
        B.t("Agency kind of the candidate group %(name)s", { name: group })));
      if (assignee) {
        parts.push(mapSelect(element, "bb-assignee-kind", "assignees", assignee,
          B.t("Agency kind of the assignee %(name)s", { name: assignee })));
        parts.push(field("bb-assignee-user", B.t("User who gets the task (user name)"),
          textInput("bb-assignee-user", mapped("users", assignee) || "", (value) => setMapped("users", assignee, value)),
          B.t("The task is taken by this user when it starts, if the user works for the agency it goes to.")));
      }
      parts.push(el("p", { class: "hint", id: "bb-routed", text: B.t("Goes to: %(where)s",
        { where: routed(bo, laneName, groups, assignee, poolOf(bo)) }) }));
      return parts;
    }

    function laneOf(bo) {
      const lane = registry.filter((shape) => shape.type === "bpmn:Lane" &&
        (shape.businessObject.flowNodeRef || []).includes(bo))[0];
      return lane ? lane.businessObject.name || "" : "";
    }

    function defaultKindSection(element) {
      return field("bb-default-kind", B.t("Agency kind for tasks nothing else routes"),
        select("bb-default-kind", kindOptions(B.t("– none –")), ctx.routing.default || "", (value) => {
          if (value) { ctx.routing.default = value; } else { delete ctx.routing.default; }
          ctx.changed();
          render(element);
        }), B.t("For models without lanes: their tasks go to the case's agency of this kind."));
    }

    function poolSection(element) {
      const name = element.businessObject.name || "";
      if (!name) { return null; }
      const aliased = ctx.laneAliases[B.normalizeLaneName(name)];
      return field("bb-pool-kind", B.t("Agency kind of this pool"), select("bb-pool-kind",
        kindOptions(aliased ? B.t("from the name: %(kind)s", { kind: aliased }) : B.t("– not mapped –")),
        mapped("pools", name) || "", (value) => {
          setMapped("pools", name, value);
          render(element);
        }), B.t("Tasks of the pool that no lane, candidate group or assignee routes go to this kind."));
    }

    function laneSection(element) {
      const name = element.businessObject.name || "";
      const explicit = ctx.lanes[name] || "";
      const aliased = ctx.laneAliases[B.normalizeLaneName(name)];
      const options = [["", aliased ? B.t("from the name: %(kind)s", { kind: aliased }) : B.t("– unknown: choose –")]]
        .concat(ctx.agencyKinds.map((kind) => [kind, kind]));
      return field("bb-lane-kind", B.t("Agency kind of this lane"), select("bb-lane-kind", options, explicit, (value) => {
        if (value) { ctx.lanes[name] = value; } else { delete ctx.lanes[name]; }
        ctx.changed();
        render(element);
      }), B.t("Tasks in the lane go to the case's agency of this kind."));
    }

    function taskTypeSection(element) {
      const types = ["Task", "UserTask", "ManualTask", "ServiceTask", "ScriptTask", "SendTask", "ReceiveTask"];
      const labels = { Task: "task (no type)", UserTask: "user task (a form)", ManualTask: "manual task (done outside)",
        ServiceTask: "service task", ScriptTask: "script task", SendTask: "send task", ReceiveTask: "receive task" };
      return field("bb-task-type", B.t("Task type"), select("bb-task-type",
        types.map((t) => ["bpmn:" + t, B.t(labels[t] || t)]), element.type, (value) => {
          const replaced = modeler.get("bpmnReplace").replaceElement(element, { type: value });
          modeler.get("selection").select(replaced);
        }), B.t("Agencies get user and manual tasks in their inbox."));
    }

    function humanTaskSection(element) {
      const bo = element.businessObject;
      const convertedName = (bo.id || "") + ".form.json";
      const converted = ctx.converted.includes(convertedName) ? convertedName : null;
      const form = getProperty(bo, "formJsonSchemaFilename") || converted;
      const names = Object.keys(ctx.forms).sort();
      const options = [["", B.t("– no form –")]].concat(names.map((n) => [n,
        ctx.converted.includes(n) ? B.t("%(form)s (from Camunda: review)", { form: n }) : n]));
      if (form && !ctx.forms[form]) { options.push([form, B.t("%(form)s (missing)", { form: form })]); }
      options.push(["__new__", B.t("+ new form for this task")]);
      const laneName = laneOf(bo);
      return [
        el("p", { class: "hint", text: B.t("Lane: %(lane)s", { lane: laneName ? laneName + " → " + (B.laneKind(ctx, laneName) || "?") : "–" }) }),
        field("bb-form", B.t("Form file"), select("bb-form", options, form, (value) => {
          if (value === "__new__") {
            value = (bo.id || "task").toLowerCase() + ".schema.json";
            if (!ctx.forms[value]) {
              ctx.forms[value] = { "$schema": "https://json-schema.org/draft/2020-12/schema", type: "object",
                title: bo.name || bo.id, required: [], properties: {} };
            }
          }
          setProperty(element, "formJsonSchemaFilename", value);
          ctx.changed();
          ctx.openForm(value || null, element);
          render(element);
        })),
        form ? el("button", { type: "button", class: "secondary small", id: "bb-edit-form", text: B.t("Edit the form"),
          onclick: () => ctx.openForm(form, element) }) : null,
        form && form === converted ? el("p", { class: "hint", id: "bb-converted-form", text: B.t("This task's fields come from its Camunda form: give each field a data category before you deploy (a field without one is restricted).") }) : null,
        field("bb-due-in", B.t("Due in (dueIn)"), textInput("bb-due-in", getProperty(bo, "dueIn"),
          (value) => setProperty(element, "dueIn", value), { placeholder: "P5D" }), B.t("ISO-8601 duration, e.g. P5D or PT12H")),
      ];
    }

    function timerSection(element, definition) {
      const kind = TIMER_KINDS.find((k) => definition[k]) || "timeDuration";
      const body = definition[kind] ? definition[kind].body : "";
      function save(newKind, newBody) {
        const props = {};
        TIMER_KINDS.forEach((k) => { props[k] = undefined; });
        props[newKind] = moddle.create("bpmn:FormalExpression", { body: newBody });
        modeling.updateModdleProperties(element, definition, props);
      }
      return [
        el("h3", { text: B.t("Timer") }),
        field("bb-timer-kind", B.t("Kind"), select("bb-timer-kind", [["timeDuration", B.t("duration (P14D)")],
          ["timeDate", B.t("date (2026-12-01T09:00:00+01:00)")], ["timeCycle", B.t("cycle (R3/P30D)")]], kind,
        (value) => save(value, document.getElementById("bb-timer").value.trim()))),
        field("bb-timer", B.t("Value or expression"), textInput("bb-timer", body, (value) => save(
          document.getElementById("bb-timer-kind").value, value))),
      ];
    }

    function messageSection(element, owner) {
      const definitions = modeler.getDefinitions();
      const messages = (definitions.get("rootElements") || []).filter((r) => r.$instanceOf("bpmn:Message"));
      const list = el("datalist", { id: "bb-messages" }, messages.map((m) => el("option", { value: m.name || m.id })));
      return [
        el("h3", { text: B.t("Message") }), list,
        field("bb-message", B.t("Message name"), textInput("bb-message", owner.messageRef ? owner.messageRef.name : "", (value) => {
          if (!value) { modeling.updateModdleProperties(element, owner, { messageRef: undefined }); return; }
          let message = messages.find((m) => (m.name || m.id) === value);
          if (!message) {
            message = moddle.create("bpmn:Message", { id: "Message_" + value.replace(/\W+/g, "_"), name: value });
            message.$parent = definitions;
            modeling.updateModdleProperties(element, definitions, { rootElements: definitions.get("rootElements").concat(message) });
          }
          modeling.updateModdleProperties(element, owner, { messageRef: message });
        }, { list: "bb-messages" })),
      ];
    }

    function flowSection(element) {
      const bo = element.businessObject;
      const source = element.source;
      const parts = [field("bb-condition", B.t("Condition"), el("textarea", {
        id: "bb-condition", rows: 3, text: bo.conditionExpression ? bo.conditionExpression.body : "",
        onchange: (e) => {
          const value = e.target.value.trim();
          modeling.updateProperties(element, {
            conditionExpression: value ? moddle.create("bpmn:FormalExpression", { body: value }) : undefined,
          });
        },
      }), B.t("A Python expression over the case data, e.g. has_home == False"))];
      if (source && /Gateway$/.test(source.type) && source.type !== "bpmn:ParallelGateway") {
        parts.push(el("label", { class: "check" }, [el("input", {
          type: "checkbox", id: "bb-default-flow", checked: source.businessObject.default === bo,
          onchange: (e) => modeling.updateProperties(source, { default: e.target.checked ? bo : undefined }),
        }), document.createTextNode(" " + B.t("Default flow of the gateway"))]));
      }
      return parts;
    }

    function gatewaySection(element) {
      const bo = element.businessObject;
      const outgoing = element.outgoing.filter((c) => c.type === "bpmn:SequenceFlow");
      const options = [["", B.t("– none –")]].concat(outgoing.map((c) => [c.id, (c.businessObject.name || c.id)]));
      return field("bb-gateway-default", B.t("Default flow"), select("bb-gateway-default", options, bo.default ? bo.default.id : "",
        (value) => {
          const flow = outgoing.find((c) => c.id === value);
          modeling.updateProperties(element, { default: flow ? flow.businessObject : undefined });
        }), B.t("Taken when no condition holds; an exclusive gateway needs one."));
    }

    function render(element) {
      current = element || canvas.getRootElement();
      const bo = current && current.businessObject;
      if (!bo) { container.replaceChildren(); return; }  // no diagram (yet)
      const parts = [el("h2", { text: bo.$type.replace("bpmn:", "") }), el("p", { class: "hint" }, [el("code", { text: bo.id })])];
      if (!bo.$instanceOf("bpmn:Collaboration") && !bo.$instanceOf("bpmn:Process")) { parts.push(nameSection(current)); }
      if (bo.$instanceOf("bpmn:Process")) { parts.push(...processSection(current, bo)); }
      if (bo.$instanceOf("bpmn:Participant") && bo.processRef) {
        parts.push(...processSection(current, bo.processRef), poolSection(current));
      }
      if (bo.$instanceOf("bpmn:Process") || bo.$instanceOf("bpmn:Collaboration") || bo.$instanceOf("bpmn:Participant")) {
        parts.push(defaultKindSection(current));
      }
      if (bo.$instanceOf("bpmn:Lane")) { parts.push(laneSection(current)); }
      if (bo.$instanceOf("bpmn:Task")) { parts.push(taskTypeSection(current)); }
      if (bo.$instanceOf("bpmn:UserTask") || bo.$instanceOf("bpmn:ManualTask")) { parts.push(...humanTaskSection(current)); }
      // A plain task waits for a person like a manual task (the engine's choice): routed alike.
      if (bo.$instanceOf("bpmn:UserTask") || bo.$instanceOf("bpmn:ManualTask") || bo.$type === "bpmn:Task") {
        parts.push(el("h3", { text: B.t("Who does it") }), ...routingSection(current, laneOf(bo)));
      }
      (bo.eventDefinitions || []).forEach((definition) => {
        if (definition.$instanceOf("bpmn:TimerEventDefinition")) { parts.push(...timerSection(current, definition)); }
        if (definition.$instanceOf("bpmn:MessageEventDefinition")) { parts.push(...messageSection(current, definition)); }
      });
      if (bo.$instanceOf("bpmn:ReceiveTask") || bo.$instanceOf("bpmn:SendTask")) { parts.push(...messageSection(current, bo)); }
      if (bo.$instanceOf("bpmn:SequenceFlow")) { parts.push(...flowSection(current)); }
      if (bo.$instanceOf("bpmn:ExclusiveGateway") || bo.$instanceOf("bpmn:InclusiveGateway")) { parts.push(gatewaySection(current)); }
      container.replaceChildren(...parts.filter(Boolean));
    }

    modeler.on("selection.changed", (event) => render(event.newSelection.length === 1 ? event.newSelection[0] : null));
    modeler.on("commandStack.changed", () => {
      if (!container.contains(document.activeElement) && current && registry.get(current.id)) { render(current); }
    });
    return { render: render, setProperty: setProperty, getProperty: getProperty };
  };

  // The page's translations (a json_script dict built by bpmn.views from EDITOR_STRINGS):
  // English text -> the user's language; %(name)s placeholders are filled from ``values``.
  function catalog() {
    if (!B.catalog) {
      const node = document.getElementById("brobygger-strings");
      B.catalog = node ? JSON.parse(node.textContent) : {};
    }
    return B.catalog;
  }
  B.t = (text, values) => {
    const translated = catalog()[text] || text;
    if (!values) { return translated; }
    return translated.replace(/%\((\w+)\)s/g, (match, key) => (key in values ? String(values[key]) : match));
  };
  // Singular for 1, plural otherwise: the rule of both English and bokmål.
  B.tn = (singular, plural, n, values) => B.t(n === 1 ? singular : plural, Object.assign({ n: n }, values || {}));
})();
