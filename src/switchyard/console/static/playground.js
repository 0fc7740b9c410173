// The playground: builds the request body for the chosen API, shows it as code, sends it
// through /console/playground/run and renders the (streamed) answer as plain text.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var form = $("playground");
  if (!form) { return; }
  var history = [];
  var lang = "curl";
  var PATHS = { chat: "/v1/chat/completions", responses: "/v1/responses", messages: "/v1/messages" };
  var WEATHER = { name: "get_weather", description: "The weather in a city.",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } };
  var SCHEMA = { type: "object", properties: { answer: { type: "string" } }, required: ["answer"],
    additionalProperties: false };

  function settings() {
    return { surface: $("pg-surface").value, model: $("pg-model").value, stream: $("pg-stream").checked,
      tools: $("pg-tools").checked, json: $("pg-json").checked, system: $("pg-system").value.trim(),
      max: parseInt($("pg-max").value, 10) || 256 };
  }

  function buildBody(s, messages) {
    var body = { model: s.model };
    if (s.surface === "chat") {
      body.messages = (s.system ? [{ role: "system", content: s.system }] : []).concat(messages);
      body.max_completion_tokens = s.max;
      if (s.tools) { body.tools = [{ type: "function", function: WEATHER }]; }
      if (s.json) { body.response_format = { type: "json_schema", json_schema: { name: "reply", strict: true, schema: SCHEMA } }; }
    } else if (s.surface === "responses") {
      body.input = messages;
      if (s.system) { body.instructions = s.system; }
      body.max_output_tokens = s.max;
      if (s.tools) { body.tools = [Object.assign({ type: "function" }, WEATHER)]; }
      if (s.json) { body.text = { format: { type: "json_schema", name: "reply", strict: true, schema: SCHEMA } }; }
    } else {
      body.messages = messages;
      if (s.system) { body.system = s.system; }
      body.max_tokens = s.max;
      if (s.tools) { body.tools = [{ name: WEATHER.name, description: WEATHER.description, input_schema: WEATHER.parameters }]; }
      if (s.json) { body.output_config = { format: { type: "json_schema", schema: SCHEMA } }; }
    }
    if (s.stream) { body.stream = true; }
    return body;
  }

  function code(s, body) {
    var base = window.location.origin + "/v1";
    var json = JSON.stringify(body, null, 2);
    if (lang === "curl") {
      var auth = s.surface === "messages" ? "-H \"x-api-key: $SWITCHYARD_API_KEY\" -H \"anthropic-version: 2023-06-01\""
        : "-H \"Authorization: Bearer $SWITCHYARD_API_KEY\"";
      return "curl " + base + PATHS[s.surface].slice(3) + " \\\n  " + auth + " \\\n  -H \"Content-Type: application/json\" \\\n  -d '" +
        json.replace(/'/g, "'\\''") + "'";
    }
    var args = json.replace(/\n/g, "\n  ");
    if (lang === "python") {
      var py = args.replace(/\btrue\b/g, "True").replace(/\bfalse\b/g, "False").replace(/\bnull\b/g, "None");
      if (s.surface === "messages") {
        return "import anthropic\n\nclient = anthropic.Anthropic(base_url=\"" + window.location.origin + "\", api_key=\"sk-sy-…\")\n" +
          "reply = client.messages.create(**" + py + ")\nprint(reply)";
      }
      var call = s.surface === "chat" ? "client.chat.completions.create" : "client.responses.create";
      return "from openai import OpenAI\n\nclient = OpenAI(base_url=\"" + base + "\", api_key=\"sk-sy-…\")\n" +
        "reply = " + call + "(**" + py + ")\nprint(reply)";
    }
    if (s.surface === "messages") {
      return "import Anthropic from \"@anthropic-ai/sdk\";\n\nconst client = new Anthropic({ baseURL: \"" + window.location.origin +
        "\", apiKey: \"sk-sy-…\" });\nconst reply = await client.messages.create(" + args + ");\nconsole.log(reply);";
    }
    var jsCall = s.surface === "chat" ? "client.chat.completions.create" : "client.responses.create";
    return "import OpenAI from \"openai\";\n\nconst client = new OpenAI({ baseURL: \"" + base + "\", apiKey: \"sk-sy-…\" });\n" +
      "const reply = await " + jsCall + "(" + args + ");\nconsole.log(reply);";
  }

  function nextMessages() {
    var prompt = $("pg-prompt").value;
    return history.concat(prompt ? [{ role: "user", content: prompt }] : []);
  }
  function showCode() { var s = settings(); $("pg-code").textContent = code(s, buildBody(s, nextMessages())); }

  function bubble(role, text) {
    var node = document.createElement("div");
    node.className = "msg " + role;
    node.setAttribute("data-role", role);
    node.textContent = text;
    $("pg-transcript").appendChild(node);
    return node;
  }

  // the text a streamed event adds, per surface
  function deltaOf(surface, event, data) {
    if (surface === "chat") {
      var choice = data.choices && data.choices[0];
      if (!choice || !choice.delta) { return ""; }
      var calls = choice.delta.tool_calls || [];
      return (choice.delta.content || "") + calls.map(function (c) {
        return (c["function"] && c["function"].name ? "[" + c["function"].name + "] " : "") + ((c["function"] && c["function"].arguments) || "");
      }).join("");
    }
    if (surface === "responses") {
      if (data.type === "response.output_text.delta" || data.type === "response.function_call_arguments.delta") { return data.delta || ""; }
      return "";
    }
    if (data.type === "content_block_delta" && data.delta) { return data.delta.text || data.delta.partial_json || ""; }
    return "";
  }
  function textOf(surface, data) {
    if (surface === "chat") {
      var m = data.choices && data.choices[0] && data.choices[0].message;
      if (!m) { return ""; }
      return (m.content || "") + (m.tool_calls || []).map(function (c) { return "[" + c["function"].name + "] " + c["function"].arguments; }).join("");
    }
    if (surface === "responses") {
      return (data.output || []).map(function (item) {
        if (item.type === "function_call") { return "[" + item.name + "] " + item.arguments; }
        return (item.content || []).map(function (c) { return c.text || ""; }).join("");
      }).join("");
    }
    return (data.content || []).map(function (c) { return c.text || (c.type === "tool_use" ? "[" + c.name + "] " + JSON.stringify(c.input) : ""); }).join("");
  }
  function errorOf(data) {
    var error = data && data.error;
    return error ? (error.message || JSON.stringify(error)) : JSON.stringify(data);
  }

  async function send(event) {
    event.preventDefault();
    var s = settings();
    var prompt = $("pg-prompt").value;
    if (!prompt.trim()) { return; }
    var messages = nextMessages();
    var body = buildBody(s, messages);
    bubble("user", prompt);
    $("pg-prompt").value = "";
    var out = bubble("assistant", "");
    $("pg-send").disabled = true;
    $("pg-status").textContent = "…";
    var text = "";
    try {
      var response = await fetch("/console/playground/run", { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": window.syCsrf() },
        body: JSON.stringify({ surface: s.surface, project_id: $("pg-project").value, body: body }) });
      var type = response.headers.get("content-type") || "";
      if (!response.ok || type.indexOf("text/event-stream") < 0) {
        var data = await response.json();
        if (!response.ok) { throw new Error(errorOf(data)); }
        text = textOf(s.surface, data);
        out.textContent = text;
      } else {
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        for (;;) {
          var chunk = await reader.read();
          if (chunk.done) { break; }
          buffer += decoder.decode(chunk.value, { stream: true });
          var frames = buffer.split(/\r?\n\r?\n/);
          buffer = frames.pop();
          frames.forEach(function (frame) {
            var name = null, lines = [];
            frame.split(/\r?\n/).forEach(function (line) {
              if (line.indexOf("event:") === 0) { name = line.slice(6).trim(); }
              if (line.indexOf("data:") === 0) { lines.push(line.slice(5).trim()); }
            });
            var raw = lines.join("\n");
            if (!raw || raw === "[DONE]") { return; }
            var parsed = JSON.parse(raw);
            if (parsed.error || name === "error") { throw new Error(errorOf(parsed)); }
            text += deltaOf(s.surface, name, parsed);
            out.textContent = text;
          });
        }
      }
      history = messages.concat([{ role: "assistant", content: text }]);
      out.setAttribute("data-done", "true");
      $("pg-status").textContent = "";
    } catch (failure) {
      out.className = "msg error flash";
      out.textContent = String(failure.message || failure);
      out.setAttribute("data-done", "error");
      $("pg-status").textContent = "";
    } finally {
      $("pg-send").disabled = false;
      showCode();
    }
  }

  form.addEventListener("submit", send);
  form.addEventListener("input", showCode);
  form.addEventListener("change", showCode);
  $("pg-clear").addEventListener("click", function () { history = []; $("pg-transcript").textContent = ""; showCode(); });
  document.querySelectorAll(".tabs [data-lang]").forEach(function (tab) {
    tab.addEventListener("click", function () {
      lang = tab.getAttribute("data-lang");
      document.querySelectorAll(".tabs [data-lang]").forEach(function (t) { t.setAttribute("aria-selected", String(t === tab)); });
      showCode();
    });
  });
  showCode();
})();
