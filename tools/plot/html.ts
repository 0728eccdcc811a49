// HTML/SVG text escaping: every string from an input (file names, job names, options)
// goes through here before it reaches the page.

/** Text made safe for HTML element content and quoted attribute values. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
