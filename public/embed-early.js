// Loaded by embed.html before its module scripts, which take a while to arrive: messages
// the host page sends in the meantime are kept here and handed to the bridge, not lost.
(function () {
  var early = [];
  function keep(event) {
    if (early.length < 1024) early.push(event);
  }
  addEventListener('message', keep);
  performance.mark('glimpse:early-listening');
  window.glimpseEarlyMessages = function () {
    removeEventListener('message', keep);
    return early.splice(0);
  };
})();
