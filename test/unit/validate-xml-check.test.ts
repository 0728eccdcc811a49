// The XML checker used by the report tests rejects what is not well-formed (so a passing
// JUnit test means something).
import t from 'tap';
import { parseXml } from '../helpers/xml-check';

t.test('accepts well-formed XML and unescapes', async (t) => {
  const root = parseXml('<?xml version="1.0" encoding="UTF-8"?>\n<a x="1 &amp; 2" y=\'&lt;&#65;&#x42;\'><!-- c --><b/>t&gt;<c>z</c></a>\n');
  t.equal(root.name, 'a');
  t.same(root.attrs, { x: '1 & 2', y: '<AB' });
  t.same(root.children.map((c) => c.name), ['b', 'c']);
  t.equal(root.text, 't>');
});

t.test('rejects malformed XML', async (t) => {
  const bad: [string, RegExp][] = [
    ['<a><b></a>', /<\/a> closes <b>/],
    ['<a>', /never closed/],
    ['<a x=1/>', /malformed attribute/],
    ['<a x="1" x="2"/>', /duplicate attribute/],
    ['<a x="<"/>', /malformed attribute/],
    ['<a>&</a>', /bare '&'/],
    ['<a>&nbsp;</a>', /unknown entity/],
    ['<a/><b/>', /second root/],
    ['text<a/>', /outside the root/],
    ['<a>\u0001</a>', /control character/],
    ['', /no root/],
    ['<?xml version="1.0"?><a x="1"y="2"/>', /separated by whitespace/],
    ['<?xml nonsense?><a/>', /malformed XML declaration/],
    ['<a></ b>', /malformed end tag/],
    ['<a><!-- x </a>', /unterminated comment/],
  ];
  for (const [xml, msg] of bad) t.throws(() => parseXml(xml), msg, JSON.stringify(xml));
});
