// The flash alert sound: off by default, a switch remembered in this browser, a short two-note
// tone made with WebAudio (no audio file). Browsers only let a page make sound after the person
// has interacted with it, so the audio context is only ever created inside a click or key press.
const KEY = "cencomm.alerts.sound";

let context = null;
let disarm = null;

export function soundOn() {
  try {
    return localStorage.getItem(KEY) === "on";
  } catch {
    return false;
  }
}

// Only call from a user gesture (a click, a key press).
function ensureContext() {
  const AudioContextClass = globalThis.AudioContext || globalThis.webkitAudioContext;
  if (!AudioContextClass) return null;
  context ??= new AudioContextClass();
  if (context.state === "suspended") context.resume().catch(() => {});
  return context;
}

// The switch (a click): remembered, and the tone played once so the person hears what it is.
export function setSound(on) {
  localStorage.setItem(KEY, on ? "on" : "off");
  if (on) {
    ensureContext();
    playTone();
  }
}

// With the sound on from an earlier visit, make the context at the first interaction.
export function armSound() {
  disarmSound();
  if (!soundOn() || context) return;
  const once = () => {
    disarmSound();
    if (soundOn()) ensureContext();
  };
  addEventListener("pointerdown", once, true);
  addEventListener("keydown", once, true);
  disarm = () => {
    removeEventListener("pointerdown", once, true);
    removeEventListener("keydown", once, true);
  };
}

export function disarmSound() {
  disarm?.();
  disarm = null;
}

// Two short notes, quiet enough not to startle. False when no sound could be made (switched off,
// or the person has not interacted with the page yet).
export function playTone() {
  if (!soundOn() || !context || context.state !== "running") return false;
  const start = context.currentTime + 0.02;
  [
    [880, 0],
    [660, 0.28],
  ].forEach(([frequency, offset]) => {
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.25, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.24);
    oscillator.connect(gain).connect(context.destination);
    oscillator.start(start + offset);
    oscillator.stop(start + offset + 0.26);
  });
  return true;
}
