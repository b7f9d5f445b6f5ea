/**
 * Phone screenshots of social apps: eight layouts, light and dark, with the picture at 50–100 % of
 * the screen's width and at different heights, status bar, header with avatar and name, text
 * above and comments, likes and navigation below. Six are for fitting, two for testing: a
 * threshold fitted on feeds, stories, a dark chat, a news reader and a team channel is judged on a
 * light chat and a forum it has never seen. Three of the fit layouts (F–H) pack text and UI right
 * beside and around the picture, where trimming plain margins alone cannot find it.
 */
import { between, pick } from "../../lib/random.ts";
import type { Picture } from "../../repost/edits.ts";
import { HANDLES, text } from "../../repost/overlays.ts";
import {
  actionIcons,
  avatar,
  type Box,
  circle,
  composeScreen,
  navBar,
  outline,
  PHONES,
  rect,
  type ScreenPlan,
  statusBar,
} from "./screen.ts";
import { COMMENTS, NAMES, POST_TEXTS, wrap } from "./text-layout.ts";
import { type Format, posted, type Render, type Rendering, round3 } from "./types.ts";

interface Layout {
  readonly plan: ScreenPlan;
  readonly theme: "light" | "dark";
}

type Plan = (p: Picture, random: () => number, width: number, height: number) => Layout;

/** The picture's box at `width` px wide from (left, top), no taller than `maxHeight` (then cropped by the app). */
const pictureBox = (p: Picture, left: number, top: number, width: number, maxHeight: number): Box => ({
  left: Math.round(left),
  top: Math.round(top),
  width: Math.round(width),
  height: Math.round(Math.min((width * p.height) / p.width, maxHeight)),
});

const textLines = (lines: readonly string[], x: number, top: number, size: number, fill: string, extra: Parameters<typeof text>[4] = {}) =>
  lines.map((line, i) => text(x, top + (i + 0.5) * size * 1.3, line, size, { fill, ...extra })).join("");

/** A: a photo feed in light mode, the picture edge to edge (at most 4:5 tall), sometimes below a row of stories. */
const feedLight: Plan = (p, random, width, height) => {
  const u = width / 390;
  const ink = "#262626";
  const handle = pick(HANDLES, random).slice(1);
  const stories = random() < 0.5;
  let y = 96 * u;
  let under = statusBar(width, u, ink) + text(16 * u, 70 * u, "Photogram", 26 * u, { fill: ink, bold: true, family: "DejaVu Serif" });
  under += actionIcons(width - 100 * u, 70 * u, u, ink);
  if (stories) {
    for (let i = 0; i < 5; i++) {
      const cx = (46 + i * 80) * u;
      under +=
        circle(cx, y + 38 * u, 33 * u, "none", outline("#d62976", 3 * u)) + avatar(cx, y + 38 * u, 28 * u, pick(NAMES, random), random);
      under += text(cx, y + 88 * u, pick(NAMES, random).split(" ")[0]!.toLowerCase(), 11 * u, { fill: ink, anchor: "middle" });
    }
    y += 104 * u;
  }
  under += avatar(30 * u, y + 27 * u, 16 * u, handle, random) + text(56 * u, y + 27 * u, handle, 14 * u, { fill: ink, bold: true });
  under += text(width - 16 * u, y + 25 * u, "⋯", 18 * u, { fill: ink, anchor: "end" });
  y += 54 * u;
  const box = pictureBox(p, 0, y, width, width * 1.25);
  y += box.height + 26 * u;
  under += actionIcons(24 * u, y, u, ink);
  const likes = Math.floor(between(random, 20, 40000)).toLocaleString("en-US");
  under += text(16 * u, y + 32 * u, `${likes} likes`, 14 * u, { fill: ink, bold: true });
  under += textLines(wrap(`${handle} ${pick(POST_TEXTS, random)}`, width - 32 * u, 14 * u, 2), 16 * u, y + 44 * u, 14 * u, ink);
  under += text(16 * u, y + 100 * u, `View all ${Math.floor(between(random, 3, 900))} comments`, 14 * u, { fill: "#8e8e8e" });
  const over = navBar(width, height, u, "#ffffff", ink);
  return { theme: "light", plan: { width, height, background: "#ffffff", under, over, picture: box } };
};

/** B: a dark microblog timeline: avatar column, post text above, the picture rounded at ~80 % width. */
const feedDark: Plan = (p, random, width, height) => {
  const u = width / 390;
  const [ink, grey] = ["#e7e9ea", "#71767b"];
  const name = pick(NAMES, random);
  let under = statusBar(width, u, "#fff") + text(width * 0.27, 70 * u, "For you", 15 * u, { fill: ink, bold: true, anchor: "middle" });
  under += text(width * 0.73, 70 * u, "Following", 15 * u, { fill: grey, anchor: "middle" }) + rect(0, 96 * u, width, 0.8 * u, "#2f3336");
  let y = 108 * u;
  if (random() < 0.5) {
    // The end of the previous post pushes this one down.
    under += textLines(wrap(pick(POST_TEXTS, random), width - 84 * u, 15 * u, 2), 68 * u, y, 15 * u, ink);
    under += text(68 * u, y + 56 * u, "↩ 12    ↻ 4    ♡ 87", 13 * u, { fill: grey }) + rect(0, y + 76 * u, width, 0.8 * u, "#2f3336");
    y += 88 * u;
  }
  under += avatar(36 * u, y + 22 * u, 20 * u, name, random);
  under += text(68 * u, y + 14 * u, name, 15 * u, { fill: ink, bold: true });
  under += text(68 * u + name.length * 9.5 * u, y + 14 * u, `${pick(HANDLES, random)} · ${Math.floor(between(random, 1, 23))}h`, 14 * u, {
    fill: grey,
  });
  const body = wrap(pick(POST_TEXTS, random), width - 84 * u, 15 * u, 3);
  under += textLines(body, 68 * u, y + 26 * u, 15 * u, ink);
  y += 26 * u + body.length * 19.5 * u + 10 * u;
  const box = { ...pictureBox(p, 68 * u, y, width - 84 * u, width * 1.1), radius: 16 * u };
  under += rect(box.left - u, box.top - u, box.width + 2 * u, box.height + 2 * u, "#2f3336", `rx="${17 * u}"`);
  y += box.height + 24 * u;
  under += text(
    68 * u,
    y,
    `↩ ${Math.floor(between(random, 1, 300))}    ↻ ${Math.floor(between(random, 1, 900))}    ♡ ${Math.floor(between(random, 5, 9000))}`,
    13 * u,
    {
      fill: grey,
    },
  );
  const over =
    circle(width - 44 * u, height - 124 * u, 28 * u, "#1d9bf0") +
    text(width - 44 * u, height - 124 * u, "+", 30 * u, { fill: "#fff", anchor: "middle" });
  return {
    theme: "dark",
    plan: { width, height, background: "#000000", under, over: over + navBar(width, height, u, "#000000", ink), picture: box },
  };
};

/** C: a full-screen story: the picture letterboxed in the middle, progress bars and the poster over it. */
const story: Plan = (p, random, width, height) => {
  const u = width / 390;
  const background = pick(["#000000", "#1c1c1e", "#2b1d3a", "#10263a"], random);
  const available = height - 190 * u;
  const fitted = Math.min(width, (available * p.width) / p.height);
  const box = pictureBox(p, (width - fitted) / 2, 0, fitted, available);
  const placed = { ...box, top: Math.round(100 * u + (available - box.height) / 2) };
  const segments = 1 + Math.floor(random() * 4);
  let over = statusBar(width, u, "#fff");
  for (let i = 0; i < segments; i++) {
    const w = (width - 16 * u - (segments - 1) * 4 * u) / segments;
    over += rect(8 * u + i * (w + 4 * u), 52 * u, w, 2.5 * u, i === 0 ? "#ffffff" : "#ffffff66", `rx="${u}"`);
  }
  const handle = pick(HANDLES, random).slice(1);
  over +=
    avatar(28 * u, 80 * u, 16 * u, handle, random) +
    text(52 * u, 80 * u, `${handle}  ${Math.floor(between(random, 1, 23))}h`, 14 * u, { fill: "#fff", bold: true });
  over += rect(16 * u, height - 70 * u, width - 110 * u, 44 * u, "none", `rx="${22 * u}" ${outline("#ffffffaa", 1.5 * u)}`);
  over +=
    text(34 * u, height - 48 * u, "Send message", 14 * u, { fill: "#fff" }) + actionIcons(width - 76 * u, height - 48 * u, 0.8 * u, "#fff");
  return { theme: "dark", plan: { width, height, background, under: "", over, picture: placed } };
};

/** D: a chat in light mode: the picture in a message bubble at 50–70 % width, left or right, between text bubbles. */
const chat: Plan = (p, random, width, height) => {
  const u = width / 390;
  const contact = pick(NAMES, random);
  let under = rect(0, 0, width, 100 * u, "#008069") + statusBar(width, u, "#fff");
  under += text(14 * u, 72 * u, "←", 22 * u, { fill: "#fff" }) + avatar(58 * u, 72 * u, 18 * u, contact, random);
  under +=
    text(86 * u, 64 * u, contact, 16 * u, { fill: "#fff", bold: true }) + text(86 * u, 84 * u, "online", 12 * u, { fill: "#d9fdd3" });
  under +=
    rect(width / 2 - 34 * u, 114 * u, 68 * u, 24 * u, "#ffffff", `rx="${8 * u}"`) +
    text(width / 2, 126 * u, "TODAY", 11 * u, { fill: "#54656f", anchor: "middle" });
  let y = 150 * u;
  const bubble = (mine: boolean, lines: readonly string[]) => {
    const w = Math.min(width * 0.75, Math.max(...lines.map((l) => l.length)) * 8.6 * u + 60 * u);
    const x = mine ? width - 10 * u - w : 10 * u;
    const h = lines.length * 19 * u + 16 * u;
    const drawn =
      rect(x, y, w, h, mine ? "#d9fdd3" : "#ffffff", `rx="${8 * u}"`) + textLines(lines, x + 10 * u, y + 6 * u, 14.5 * u, "#111b21");
    y += h + 8 * u;
    return drawn;
  };
  for (let i = Math.floor(random() * 4); i > 0; i--)
    under += bubble(random() < 0.5, wrap(pick(COMMENTS, random), width * 0.6, 14.5 * u, 2));
  const mine = random() < 0.5;
  const shownWidth = width * between(random, 0.5, 0.7);
  const bubbleLeft = mine ? width - 10 * u - shownWidth - 8 * u : 10 * u;
  const box = { ...pictureBox(p, bubbleLeft + 4 * u, y + 4 * u, shownWidth, height * 0.5), radius: 7 * u };
  under += rect(bubbleLeft, y, shownWidth + 8 * u, box.height + 8 * u, mine ? "#d9fdd3" : "#ffffff", `rx="${8 * u}"`);
  const over = text(
    box.left + box.width - 8 * u,
    box.top + box.height - 12 * u,
    `14:0${Math.floor(random() * 10)}${mine ? " ✓✓" : ""}`,
    11 * u,
    {
      fill: "#fff",
      anchor: "end",
    },
  );
  y += box.height + 16 * u;
  if (y < height - 160 * u) under += bubble(!mine, wrap(pick(COMMENTS, random), width * 0.6, 14.5 * u, 2));
  const input =
    rect(8 * u, height - 62 * u, width - 70 * u, 46 * u, "#ffffff", `rx="${23 * u}"`) +
    text(52 * u, height - 39 * u, "Message", 16 * u, { fill: "#8696a0" }) +
    circle(width - 32 * u, height - 39 * u, 23 * u, "#00a884");
  return { theme: "light", plan: { width, height, background: "#efeae2", under, over: over + input, picture: box } };
};

/** E: a forum post in dark mode: title above, the picture at 60–85 % width on a black band, votes and comments below. */
const forum: Plan = (p, random, width, height) => {
  const u = width / 390;
  const [ink, grey] = ["#f2f4f5", "#8ba2ad"];
  let under = statusBar(width, u, "#fff") + rect(60 * u, 52 * u, width - 120 * u, 34 * u, "#1a282d", `rx="${17 * u}"`);
  under += text(80 * u, 69 * u, "Search r/pics", 14 * u, { fill: grey }) + circle(30 * u, 69 * u, 14 * u, "#ff4500");
  let y = 104 * u;
  under +=
    circle(28 * u, y + 14 * u, 12 * u, "#ff4500") +
    text(48 * u, y + 10 * u, `r/pics • ${Math.floor(between(random, 1, 23))}h`, 13 * u, { fill: ink, bold: true });
  under += text(48 * u, y + 27 * u, `u/${pick(HANDLES, random).slice(1)}`, 12 * u, { fill: grey });
  const title = wrap(pick(POST_TEXTS, random), width - 32 * u, 18 * u, 3);
  under += textLines(title, 16 * u, y + 44 * u, 18 * u, ink, { bold: true });
  y += 44 * u + title.length * 23.4 * u + 10 * u;
  const shownWidth = width * between(random, 0.6, 0.85);
  const centred = random() < 0.6;
  const box = pictureBox(p, centred ? (width - shownWidth) / 2 : 16 * u, y + 8 * u, shownWidth, height * 0.5);
  under += rect(0, y, width, box.height + 16 * u, "#000000");
  y += box.height + 30 * u;
  const votes = `▲ ${(between(random, 1, 60) | 0).toString()}.${Math.floor(random() * 10)}k ▼`;
  under +=
    rect(16 * u, y - 14 * u, 104 * u, 30 * u, "#1a282d", `rx="${15 * u}"`) +
    text(68 * u, y + u, votes, 13 * u, { fill: ink, anchor: "middle", bold: true });
  under +=
    rect(128 * u, y - 14 * u, 70 * u, 30 * u, "#1a282d", `rx="${15 * u}"`) +
    text(163 * u, y + u, `${Math.floor(between(random, 5, 999))}`, 13 * u, { fill: ink, anchor: "middle" });
  under +=
    rect(206 * u, y - 14 * u, 76 * u, 30 * u, "#1a282d", `rx="${15 * u}"`) +
    text(244 * u, y + u, "Share", 13 * u, { fill: ink, anchor: "middle" });
  y += 36 * u;
  while (y < height - 170 * u) {
    const name = pick(NAMES, random);
    under +=
      avatar(28 * u, y + 12 * u, 12 * u, name, random) +
      text(48 * u, y + 12 * u, name.toLowerCase().replace(/[^a-z]/g, "_"), 12 * u, { fill: grey });
    const lines = wrap(pick(COMMENTS, random), width - 64 * u, 14 * u, 2);
    under += textLines(lines, 48 * u, y + 24 * u, 14 * u, ink);
    y += 36 * u + lines.length * 18 * u + 14 * u;
  }
  return {
    theme: "dark",
    plan: { width, height, background: "#0b1416", under, over: navBar(width, height, u, "#0b1416", ink), picture: box },
  };
};

/** Running text for articles: a few canned posts in a random order, as long as a paragraph needs. */
const paragraph = (random: () => number, sentences: number) => Array.from({ length: sentences }, () => pick(POST_TEXTS, random)).join(". ");

/**
 * F: a chat in dark mode: dense text bubbles right above and below, the picture inside a bubble at
 * 55–75 % width (a caption line under it in the bubble, or a time stamp over it), header and input bar.
 */
const chatDark: Plan = (p, random, width, height) => {
  const u = width / 390;
  const [ink, grey, theirs, ours] = ["#e9edef", "#8696a0", "#202c33", "#005c4b"];
  const contact = pick(NAMES, random);
  let under = rect(0, 0, width, 100 * u, "#202c33") + statusBar(width, u, "#fff");
  under += text(14 * u, 72 * u, "←", 22 * u, { fill: ink }) + avatar(58 * u, 72 * u, 18 * u, contact, random);
  under +=
    text(86 * u, 64 * u, contact, 16 * u, { fill: ink, bold: true }) + text(86 * u, 84 * u, "last seen today", 12 * u, { fill: grey });
  let y = 110 * u;
  const bubble = (mine: boolean, lines: readonly string[]) => {
    const w = Math.min(width * 0.8, Math.max(...lines.map((l) => l.length)) * 8.6 * u + 64 * u);
    const x = mine ? width - 8 * u - w : 8 * u;
    const h = lines.length * 19 * u + 14 * u;
    const drawn =
      rect(x, y, w, h, mine ? ours : theirs, `rx="${7 * u}"`) +
      textLines(lines, x + 9 * u, y + 5 * u, 14.5 * u, ink) +
      text(x + w - 8 * u, y + h - 9 * u, `13:${10 + Math.floor(random() * 50)}`, 10 * u, { fill: grey, anchor: "end" });
    y += h + 4 * u;
    return drawn;
  };
  // Several messages above the picture: up to ~40 % of the screen is conversation before it.
  const before = 2 + Math.floor(random() * 4);
  for (let i = 0; i < before && y < height * 0.4; i++)
    under += bubble(random() < 0.5, wrap(pick([...COMMENTS, ...POST_TEXTS], random), width * 0.68, 14.5 * u, 3));
  const mine = random() < 0.5;
  const shownWidth = width * between(random, 0.55, 0.75);
  const caption = random() < 0.5 ? wrap(pick(POST_TEXTS, random), shownWidth - 16 * u, 14.5 * u, 2) : [];
  const bubbleLeft = mine ? width - 8 * u - shownWidth - 6 * u : 8 * u;
  const box = { ...pictureBox(p, bubbleLeft + 3 * u, y + 3 * u, shownWidth, height * 0.45), radius: 6 * u };
  const bubbleHeight = box.height + 6 * u + (caption.length > 0 ? caption.length * 19 * u + 12 * u : 0);
  under += rect(bubbleLeft, y, shownWidth + 6 * u, bubbleHeight, mine ? ours : theirs, `rx="${7 * u}"`);
  if (caption.length > 0) under += textLines(caption, bubbleLeft + 9 * u, box.top + box.height + 4 * u, 14.5 * u, ink);
  const over =
    caption.length > 0
      ? ""
      : text(box.left + box.width - 8 * u, box.top + box.height - 12 * u, `13:4${Math.floor(random() * 10)}`, 11 * u, {
          fill: "#fff",
          anchor: "end",
        });
  y += bubbleHeight + 4 * u;
  while (y < height - 150 * u) under += bubble(random() < 0.5, wrap(pick([...COMMENTS, ...POST_TEXTS], random), width * 0.68, 14.5 * u, 3));
  const input =
    rect(0, height - 76 * u, width, 76 * u, "#0b141a") +
    rect(8 * u, height - 66 * u, width - 70 * u, 46 * u, theirs, `rx="${23 * u}"`) +
    text(52 * u, height - 43 * u, "Message", 16 * u, { fill: grey }) +
    circle(width - 32 * u, height - 43 * u, 23 * u, "#00a884");
  return { theme: "dark", plan: { width, height, background: "#0b141a", under, over: over + input, picture: box } };
};

/**
 * G: a news reader in light mode: headline and byline, then the picture at 50–60 % width floated
 * left or right with the article's text wrapped in the column beside it and running on below.
 */
const reader: Plan = (p, random, width, height) => {
  const u = width / 390;
  const [ink, grey] = ["#1a1a1a", "#6b6b6b"];
  let under =
    statusBar(width, u, ink) + text(16 * u, 70 * u, "‹  The Daily Read", 17 * u, { fill: ink, bold: true, family: "DejaVu Serif" });
  under += text(width - 16 * u, 70 * u, "Aa   ⋯", 16 * u, { fill: ink, anchor: "end" }) + rect(0, 94 * u, width, 0.8 * u, "#dddddd");
  let y = 112 * u;
  const headline = wrap(pick(POST_TEXTS, random), width - 32 * u, 22 * u, 3);
  under += textLines(headline, 16 * u, y, 22 * u, ink, { bold: true, family: "DejaVu Serif" });
  y += headline.length * 28.6 * u + 8 * u;
  under += text(16 * u, y + 8 * u, `By ${pick(NAMES, random)} · ${Math.floor(between(random, 2, 12))} min read`, 12 * u, { fill: grey });
  y += 30 * u;
  // A lead paragraph above the picture half the time.
  if (random() < 0.5) {
    const lead = wrap(paragraph(random, 3), width - 32 * u, 15 * u, 3);
    under += textLines(lead, 16 * u, y, 15 * u, ink, { family: "DejaVu Serif" });
    y += lead.length * 19.5 * u + 10 * u;
  }
  const shownWidth = width * between(random, 0.5, 0.6);
  const left = random() < 0.5;
  const box = pictureBox(p, left ? 16 * u : width - 16 * u - shownWidth, y + 4 * u, shownWidth, shownWidth * 1.2);
  const column = width - 32 * u - shownWidth - 12 * u;
  const columnX = left ? box.left + box.width + 12 * u : 16 * u;
  const besideLines = Math.max(1, Math.floor(box.height / (13 * u * 1.3)));
  const beside = wrap(paragraph(random, 8), column, 13 * u, besideLines);
  under += textLines(beside, columnX, y + 4 * u, 13 * u, ink, { family: "DejaVu Serif" });
  y = box.top + box.height + 6 * u;
  under += text(left ? box.left : box.left + box.width, y + 8 * u, "Photo: staff", 10 * u, { fill: grey, anchor: left ? "start" : "end" });
  y += 22 * u;
  const rest = wrap(paragraph(random, 12), width - 32 * u, 15 * u, 40);
  under += textLines(rest, 16 * u, y, 15 * u, ink, { family: "DejaVu Serif" });
  const over =
    rect(0, height - 60 * u, width, 60 * u, "#ffffff") +
    rect(0, height - 60 * u, width, 0.8 * u, "#dddddd") +
    text(width / 2, height - 32 * u, "♡  Save    ↗ Share    ✎ 48", 14 * u, { fill: ink, anchor: "middle" });
  return { theme: "light", plan: { width, height, background: "#ffffff", under, over, picture: box } };
};

/**
 * H: a team-chat channel in light mode: avatar column, name and time over each message, messages
 * packed above and below; the picture is an attachment at 55–80 % width, rounded, reactions under it.
 */
const channel: Plan = (p, random, width, height) => {
  const u = width / 390;
  const [ink, grey] = ["#1d1c1d", "#616061"];
  let under = rect(0, 0, width, 100 * u, "#3f0e40") + statusBar(width, u, "#fff");
  under += text(16 * u, 72 * u, `# ${pick(["general", "random", "photos", "design", "off-topic"], random)}`, 17 * u, {
    fill: "#fff",
    bold: true,
  });
  under += text(width - 16 * u, 72 * u, `${Math.floor(between(random, 3, 90))} members`, 12 * u, { fill: "#e0d4e0", anchor: "end" });
  let y = 112 * u;
  const message = (lines: readonly string[]) => {
    const name = pick(NAMES, random);
    const drawn =
      rect(12 * u, y + 2 * u, 36 * u, 36 * u, pick(["#e76f51", "#2a9d8f", "#264653", "#8d5cf6", "#118ab2"], random), `rx="${6 * u}"`) +
      text(30 * u, y + 20 * u, name.slice(0, 1), 16 * u, { fill: "#fff", anchor: "middle", bold: true }) +
      text(58 * u, y + 9 * u, name, 15 * u, { fill: ink, bold: true }) +
      text(66 * u + name.length * 10 * u, y + 9 * u, `${Math.floor(between(random, 1, 12))}:${10 + Math.floor(random() * 50)} PM`, 11 * u, {
        fill: grey,
      }) +
      textLines(lines, 58 * u, y + 20 * u, 14.5 * u, ink);
    y += 26 * u + lines.length * 18.9 * u + 10 * u;
    return drawn;
  };
  const before = 1 + Math.floor(random() * 4);
  for (let i = 0; i < before && y < height * 0.4; i++) under += message(wrap(paragraph(random, 2), width - 74 * u, 14.5 * u, 3));
  under += message(wrap(pick(POST_TEXTS, random), width - 74 * u, 14.5 * u, 2));
  const shownWidth = width * between(random, 0.55, 0.8);
  const box = { ...pictureBox(p, 58 * u, y - 4 * u, Math.min(shownWidth, width - 70 * u), height * 0.45), radius: 8 * u };
  y = box.top + box.height + 8 * u;
  const reactions = 1 + Math.floor(random() * 3);
  for (let i = 0; i < reactions; i++)
    under +=
      rect(58 * u + i * 52 * u, y, 46 * u, 24 * u, "#eef4fb", `rx="${12 * u}" ${outline("#1d9bd1", u)}`) +
      text(81 * u + i * 52 * u, y + 12 * u, `${pick(["♥", "★", "✓", "☺"], random)} ${1 + Math.floor(random() * 9)}`, 12 * u, {
        fill: "#1264a3",
        anchor: "middle",
      });
  y += 34 * u;
  while (y < height - 150 * u) under += message(wrap(paragraph(random, 2), width - 74 * u, 14.5 * u, 3));
  const input =
    rect(0, height - 80 * u, width, 80 * u, "#ffffff") +
    rect(10 * u, height - 70 * u, width - 20 * u, 48 * u, "#ffffff", `rx="${8 * u}" ${outline("#bbbbbb", u)}`) +
    text(24 * u, height - 46 * u, "Message #channel", 15 * u, { fill: grey });
  return { theme: "light", plan: { width, height, background: "#ffffff", under, over: input, picture: box } };
};

/** A layout on a random phone, saved as the phone saves screenshots (PNG) or re-shared as JPEG. */
const screenshot =
  (layout: Plan): Render =>
  async (p, { random }) => {
    const [width, height] = pick(PHONES, random);
    const { plan, theme } = layout(p, random, width, height);
    const format: Format = random() < 0.5 ? "png" : "jpeg";
    const box = plan.picture;
    return posted(
      await composeScreen(p, plan),
      {
        theme,
        screen: `${width}x${height}`,
        left: box.left,
        top: box.top,
        shownWidth: box.width,
        shownHeight: box.height,
        widthFraction: round3(box.width / width),
      },
      format,
    );
  };

export const SCREENSHOT_RENDERINGS: readonly Rendering[] = [
  {
    id: "screenshot-a-feed-light",
    kind: "screenshot",
    split: "fit",
    description: "photo feed, light: full width (≤ 4:5), stories row or not",
    render: screenshot(feedLight),
  },
  {
    id: "screenshot-b-timeline-dark",
    kind: "screenshot",
    split: "fit",
    description: "microblog timeline, dark: text above, ~80 % width, rounded",
    render: screenshot(feedDark),
  },
  {
    id: "screenshot-c-story-dark",
    kind: "screenshot",
    split: "fit",
    description: "full-screen story, dark: letterboxed, bars and poster over it",
    render: screenshot(story),
  },
  {
    id: "screenshot-f-chat-dark",
    kind: "screenshot",
    split: "fit",
    description: "chat, dark: in a bubble at 55–75 % width, dense bubbles above and below",
    render: screenshot(chatDark),
  },
  {
    id: "screenshot-g-reader-light",
    kind: "screenshot",
    split: "fit",
    description: "news reader, light: 50–60 % width, article text beside and below",
    render: screenshot(reader),
  },
  {
    id: "screenshot-h-channel-light",
    kind: "screenshot",
    split: "fit",
    description: "team-chat channel, light: attachment at 55–80 % width, messages above and below",
    render: screenshot(channel),
  },
  {
    id: "screenshot-d-chat-light",
    kind: "screenshot",
    split: "test",
    description: "chat, light: in a bubble at 50–70 % width, left or right",
    render: screenshot(chat),
  },
  {
    id: "screenshot-e-forum-dark",
    kind: "screenshot",
    split: "test",
    description: "forum post, dark: title above, 60–85 % width, comments below",
    render: screenshot(forum),
  },
];
