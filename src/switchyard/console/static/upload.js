// Upload with progress: the file goes as multipart to /console/files/upload (which streams it
// on to POST /v1/files in the chosen project); XMLHttpRequest reports upload progress.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form) { return; }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var input = document.getElementById("upload-file");
    if (!input.files.length) { return; }
    var data = new FormData();
    data.append("purpose", document.getElementById("upload-purpose").value);
    data.append("file", input.files[0]);
    var progress = document.getElementById("upload-progress");
    var result = document.getElementById("upload-result");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/console/files/upload?project_id=" + encodeURIComponent(form.getAttribute("data-project")));
    xhr.setRequestHeader("X-CSRF-Token", window.syCsrf());
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) { progress.value = Math.round(100 * e.loaded / e.total); }
    });
    xhr.addEventListener("load", function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = { error: { message: xhr.responseText } }; }
      if (xhr.status === 200) {
        progress.value = 100;
        result.textContent = "Uploaded " + body.filename + " as " + body.id + ".";
        result.setAttribute("data-file-id", body.id);
        setTimeout(function () { window.location.reload(); }, 600);
      } else {
        result.textContent = "Upload failed: " + ((body.error && body.error.message) || xhr.status);
        result.setAttribute("data-failed", "true");
      }
    });
    xhr.addEventListener("error", function () { result.textContent = "Upload failed: the connection broke."; });
    xhr.send(data);
  });
})();
