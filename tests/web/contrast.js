// The WCAG 2.x contrast ratio of an element's text against what is behind it, as Chromium
// computed it now (so :hover and :focus styles count). Backgrounds are composited from the
// element up to the first opaque one (white beneath everything).
(element) => {
  const parse = (value) => {
    const match = value.match(/rgba?\(([^)]+)\)/);
    if (!match) return { r: 0, g: 0, b: 0, a: 0 };
    const parts = match[1].split(/[,\s/]+/).filter(Boolean).map(Number);
    return { r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1 };
  };
  const over = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a),
    g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a),
    a: 1,
  });
  const luminance = (c) => {
    const channel = (v) => {
      const s = v / 255;
      return s <= 0.04045 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  };
  const layers = [];
  for (let node = element; node; node = node.parentElement) {
    const colour = parse(getComputedStyle(node).backgroundColor);
    if (colour.a > 0) {
      layers.push(colour);
      if (colour.a >= 1) break;
    }
  }
  let background = { r: 255, g: 255, b: 255, a: 1 };
  for (let i = layers.length - 1; i >= 0; i--) background = over(layers[i], background);
  const text = over(parse(getComputedStyle(element).color), background);
  const [light, dark] = [luminance(text), luminance(background)].sort((x, y) => y - x);
  const name = (element.innerText || element.value || element.getAttribute("aria-label") || "").trim();
  return {
    ratio: (light + 0.05) / (dark + 0.05),
    text: `rgb(${text.r.toFixed(0)},${text.g.toFixed(0)},${text.b.toFixed(0)})`,
    background: `rgb(${background.r.toFixed(0)},${background.g.toFixed(0)},${background.b.toFixed(0)})`,
    control: `${element.tagName.toLowerCase()}.${element.className} "${name.slice(0, 40)}"`,
  };
}
