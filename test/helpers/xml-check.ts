// A small XML 1.0 well-formedness checker and tree builder for the report tests (no
// dependency): one root element, properly nested and closed tags, quoted and unique
// attributes, no raw '<' or unescaped '&' in text or attribute values, only the five
// predefined entities and numeric character references, no forbidden control characters.

/** An element of the parsed tree. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated, unescaped character data directly inside the element. */
  text: string;
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescape(raw: string, where: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(raw)) throw new Error(`forbidden control character in ${where}`);
  return raw.replace(/&([^;]*);|&/g, (m, ent: string | undefined) => {
    if (ent === undefined) throw new Error(`bare '&' in ${where}`);
    if (ent in ENTITIES) return ENTITIES[ent];
    const num = /^#(\d+)$/.exec(ent) ?? /^#x([0-9a-fA-F]+)$/.exec(ent);
    if (num) return String.fromCodePoint(parseInt(num[1], ent[1] === 'x' ? 16 : 10));
    throw new Error(`unknown entity &${ent}; in ${where}`);
  });
}

/** Parses `xml`, throwing an Error that says where it is not well-formed. */
export function parseXml(xml: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const fail = (msg: string): never => {
    const line = xml.slice(0, i).split('\n').length;
    throw new Error(`XML not well-formed at line ${line}: ${msg}`);
  };
  if (xml.startsWith('<?xml')) {
    const end = xml.indexOf('?>');
    if (end < 0) fail('unterminated XML declaration');
    if (!/^<\?xml version="1\.[0-9]"( encoding="[A-Za-z0-9._-]+")?( standalone="(yes|no)")?\s*\?>$/.test(xml.slice(0, end + 2))) fail('malformed XML declaration');
    i = end + 2;
  }
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt < 0 ? xml.length : lt);
    if (text.includes('>') && /]]>/.test(text)) fail("']]>' in text");
    if (text.trim()) {
      if (!stack.length) fail(`text outside the root element: ${JSON.stringify(text.slice(0, 20))}`);
      stack[stack.length - 1].text += unescape(text, `text of <${stack[stack.length - 1].name}>`);
    }
    if (lt < 0) break;
    i = lt;
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i + 4);
      if (end < 0) fail('unterminated comment');
      i = end + 3;
      continue;
    }
    if (xml.startsWith('</', i)) {
      const m = NAME.exec(xml.slice(i + 2));
      if (!m) fail('malformed end tag');
      const name = m![0];
      const close = xml.indexOf('>', i);
      if (close < 0 || xml.slice(i + 2 + name.length, close).trim()) fail(`malformed end tag </${name}`);
      const open = stack.pop();
      if (!open || open.name !== name) fail(`</${name}> closes <${open?.name ?? 'nothing'}>`);
      i = close + 1;
      continue;
    }
    const m = NAME.exec(xml.slice(i + 1));
    if (!m) fail('malformed start tag');
    const el: XmlElement = { name: m![0], attrs: {}, children: [], text: '' };
    i += 1 + el.name.length;
    for (;;) {
      const ws = /^\s*/.exec(xml.slice(i))![0];
      i += ws.length;
      if (xml.startsWith('/>', i) || xml.startsWith('>', i)) break;
      if (!ws) fail(`attributes of <${el.name}> must be separated by whitespace`);
      const a = /^([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/.exec(xml.slice(i));
      if (!a) fail(`malformed attribute in <${el.name}>: ${JSON.stringify(xml.slice(i, i + 30))}`);
      if (a![1] in el.attrs) fail(`duplicate attribute ${a![1]} in <${el.name}>`);
      el.attrs[a![1]] = unescape(a![3] ?? a![4], `attribute ${a![1]} of <${el.name}>`);
      i += a![0].length;
    }
    if (stack.length) stack[stack.length - 1].children.push(el);
    else if (root) fail(`second root element <${el.name}>`);
    else root = el;
    if (xml.startsWith('/>', i)) i += 2;
    else {
      i += 1;
      stack.push(el);
    }
  }
  if (stack.length) fail(`<${stack[stack.length - 1].name}> is never closed`);
  if (!root) fail('no root element');
  return root!;
}

/** Children of `el` named `name`. */
export function childrenNamed(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}
