/* Downscale a chosen photo on the phone before it is uploaded, so a 5 MB camera photo costs a
 * family a few hundred kilobytes of mobile data. Progressive enhancement only: without
 * JavaScript, or whenever anything here fails, the original file is sent and the server does
 * the same work (app/services/photos.py). The canvas re-encode also drops the photo's EXIF
 * (GPS location included) before it leaves the phone.
 *
 * Use: mark the file input and include this script (no inline script: CSP):
 *   <input type="file" name="photo" accept="image/*" data-downscale>
 *   <script src="{{ asset('photo.js') }}" defer></script>
 * While it works the input carries data-downscale-state="working", then "done" (replaced by a
 * smaller JPEG) or "original" (left as chosen). A form submitted meanwhile waits for it.
 */
(function () {
  "use strict";
  var MAX_SIDE = 1600;
  var QUALITY = 0.8;
  var SMALL_ENOUGH = 400 * 1024; // smaller files are sent as they are
  var GIVE_UP_MS = 15000;

  function canReplaceFiles() {
    try {
      return typeof DataTransfer === "function" && !!new DataTransfer().items &&
        typeof File === "function" && !!HTMLCanvasElement.prototype.toBlob;
    } catch (e) {
      return false;
    }
  }

  function decode(file) {
    // createImageBitmap applies the EXIF orientation with imageOrientation "from-image".
    if (window.createImageBitmap) {
      return createImageBitmap(file, { imageOrientation: "from-image" }).catch(function () {
        return decodeWithImg(file);
      });
    }
    return decodeWithImg(file);
  }

  function decodeWithImg(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () { URL.revokeObjectURL(url); resolve(img); };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("decode")); };
      img.src = url;
    });
  }

  function shrink(file) {
    return decode(file).then(function (picture) {
      var w = picture.naturalWidth || picture.width;
      var h = picture.naturalHeight || picture.height;
      var scale = Math.min(1, MAX_SIDE / Math.max(w, h));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(w * scale));
      canvas.height = Math.max(1, Math.round(h * scale));
      var g = canvas.getContext("2d");
      g.fillStyle = "#fff"; // transparent PNGs become white, as on the server
      g.fillRect(0, 0, canvas.width, canvas.height);
      g.drawImage(picture, 0, 0, canvas.width, canvas.height);
      if (picture.close) { picture.close(); }
      return new Promise(function (resolve, reject) {
        canvas.toBlob(function (blob) {
          canvas.width = canvas.height = 0; // free the pixels now on low-memory phones
          if (blob && blob.size > 0 && blob.size < file.size) { resolve(blob); } else { reject(new Error("no gain")); }
        }, "image/jpeg", QUALITY);
      });
    });
  }

  function withTimeout(promise, ms) {
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
      promise.then(function (v) { clearTimeout(timer); resolve(v); },
        function (e) { clearTimeout(timer); reject(e); });
    });
  }

  var pending = new WeakMap(); // input -> promise while working

  function handle(input) {
    var file = input.files && input.files[0];
    if (!file || !canReplaceFiles() || !/^image\//.test(file.type) || file.size <= SMALL_ENOUGH) {
      input.setAttribute("data-downscale-state", "original");
      return;
    }
    input.setAttribute("data-downscale-state", "working");
    var job = withTimeout(shrink(file), GIVE_UP_MS).then(function (blob) {
      if (input.files[0] !== file) { return; } // the parent chose another photo meanwhile
      var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
      var dt = new DataTransfer();
      dt.items.add(new File([blob], name, { type: "image/jpeg", lastModified: file.lastModified }));
      input.files = dt.files;
      input.setAttribute("data-downscale-state", "done");
    }).catch(function () {
      input.setAttribute("data-downscale-state", "original"); // send the photo as chosen
    }).then(function () {
      pending.delete(input);
    });
    pending.set(input, job);
  }

  document.addEventListener("change", function (e) {
    var input = e.target;
    if (input && input.matches && input.matches("input[type=file][data-downscale]")) {
      handle(input);
    }
  });

  // A form submitted while a photo is still being shrunk waits for it, then submits again
  // (through htmx if present, since requestSubmit fires a new submit event).
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var inputs = form.querySelectorAll ? form.querySelectorAll("input[type=file][data-downscale]") : [];
    var waits = [];
    for (var i = 0; i < inputs.length; i++) {
      if (pending.has(inputs[i])) { waits.push(pending.get(inputs[i])); }
    }
    if (!waits.length) { return; }
    e.preventDefault();
    e.stopImmediatePropagation();
    var submitter = e.submitter || null;
    Promise.all(waits).then(function () {
      if (form.requestSubmit) { form.requestSubmit(submitter); } else { form.submit(); }
    });
  }, true);
})();
