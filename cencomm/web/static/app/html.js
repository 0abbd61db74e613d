// One binding of htm to Preact, so every screen writes markup the same way.
import { h } from "preact";
import htm from "htm";

export const html = htm.bind(h);
