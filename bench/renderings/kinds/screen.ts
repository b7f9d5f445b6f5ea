/**
 * A phone screen as a plan (canvas, chrome drawn under and over the picture, the picture's box)
 * and its composition with sharp. The app layouts in screenshots.ts only decide where things go.
 */

import type { Sharp } from "sharp";
import sharp from "sharp";
import { pick } from "../../lib/random.ts";
import type { Picture } from "../../repost/edits.ts";
import { svg, text } from "../../repost/overlays.ts";

/** Portrait phone screens in pixels (720p Android, 1080p Android, iPhone XR, iPhone 11 Pro). */
export const PHONES: readonly (readonly [number, number])[] = [
  [720, 1560],
  [1080, 2340],
  [828, 1792],
  [1125, 2436],
];

export interface Box {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

export interface ScreenPlan {
  readonly width: number;
  readonly height: number;
  readonly background: string;
  /** SVG drawn before the picture, and after it (overlays on the picture: story bars, timestamps). */
  readonly under: string;
  readonly over: string;
  /** Where the picture goes, resized to fill it ("cover": apps crop tall pictures); may run off the screen. */
  readonly picture: Box & { readonly radius?: number };
}

/** Draws the plan; the picture is clipped to the screen and rounded when asked. */
export async function composeScreen(p: Picture, plan: ScreenPlan): Promise<Sharp> {
  const box = plan.picture;
  let shown = sharp(p.data).resize(box.width, box.height, { fit: "cover" });
  if (box.radius) {
    const mask = svg(box.width, box.height, `<rect width="${box.width}" height="${box.height}" rx="${box.radius}" fill="#fff"/>`);
    shown = sharp(
      await shown
        .ensureAlpha()
        .composite([{ input: mask, blend: "dest-in" }])
        .png()
        .toBuffer(),
    );
  }
  const visible = Math.min(box.height, plan.height - box.top);
  const clipped = await (visible < box.height
    ? sharp(await shown.png().toBuffer()).extract({ left: 0, top: 0, width: box.width, height: visible })
    : shown
  )
    .png()
    .toBuffer();
  const canvas = sharp({ create: { width: plan.width, height: plan.height, channels: 3, background: plan.background } });
  return sharp(
    await canvas
      .composite([
        { input: svg(plan.width, plan.height, plan.under) },
        { input: clipped, left: box.left, top: box.top },
        { input: svg(plan.width, plan.height, plan.over) },
      ])
      .removeAlpha()
      .png()
      .toBuffer(),
  );
}

/** Small SVG shapes the layouts draw with. */
export const rect = (x: number, y: number, w: number, h: number, fill: string, extra = "") =>
  `<rect x="${x}" y="${y}" width="${Math.max(0, w)}" height="${Math.max(0, h)}" fill="${fill}" ${extra}/>`;
export const circle = (cx: number, cy: number, r: number, fill: string, extra = "") =>
  `<circle cx="${cx}" cy="${cy}" r="${r}" fill="${fill}" ${extra}/>`;
export const outline = (colour: string, width: number) => `stroke="${colour}" stroke-width="${width}"`;

/** A round avatar: a coloured disc with an initial. */
export function avatar(cx: number, cy: number, r: number, name: string, random: () => number): string {
  const colour = pick(["#e76f51", "#2a9d8f", "#264653", "#e9c46a", "#8d5cf6", "#ef476f", "#118ab2"], random);
  return circle(cx, cy, r, colour) + text(cx, cy, name.slice(0, 1).toUpperCase(), r, { fill: "#fff", anchor: "middle", bold: true });
}

/** The phone's status bar: time on the left, network and battery on the right. */
export function statusBar(width: number, u: number, ink: string): string {
  const y = 22 * u;
  return (
    text(24 * u, y, "9:41", 15 * u, { fill: ink, bold: true }) +
    text(width - 58 * u, y, "5G", 13 * u, { fill: ink, anchor: "end", bold: true }) +
    rect(width - 50 * u, y - 6 * u, 24 * u, 12 * u, "none", `rx="${3 * u}" ${outline(ink, 1.2 * u)}`) +
    rect(width - 48 * u, y - 4 * u, 16 * u, 8 * u, ink, `rx="${1.5 * u}"`)
  );
}

/** A bottom navigation bar with `count` simple icons. */
export function navBar(width: number, height: number, u: number, background: string, ink: string, count = 5): string {
  const top = height - 84 * u;
  const icons = Array.from({ length: count }, (_, i) => {
    const cx = ((i + 0.5) * width) / count;
    return i % 2 === 0
      ? rect(cx - 11 * u, top + 18 * u, 22 * u, 22 * u, "none", `rx="${5 * u}" ${outline(ink, 2 * u)}`)
      : circle(cx, top + 29 * u, 11 * u, "none", outline(ink, 2 * u));
  });
  return rect(0, top, width, 84 * u, background) + rect(0, top, width, 0.8 * u, "#8884") + icons.join("");
}

/** A heart outline, a speech bubble and a paper plane: the action row under a post. */
export function actionIcons(x: number, y: number, u: number, ink: string): string {
  const s = 11 * u;
  const heart = `<path d="M ${x} ${y + s * 0.8} C ${x - s * 1.6} ${y - s * 0.3} ${x - s * 0.6} ${y - s * 1.3} ${x} ${y - s * 0.4} C ${x + s * 0.6} ${y - s * 1.3} ${x + s * 1.6} ${y - s * 0.3} ${x} ${y + s * 0.8} Z" fill="none" ${outline(ink, 2 * u)}/>`;
  const bubble = circle(x + 40 * u, y, s, "none", outline(ink, 2 * u));
  const plane = `<path d="M ${x + 70 * u} ${y} L ${x + 92 * u} ${y - 10 * u} L ${x + 84 * u} ${y + 11 * u} Z" fill="none" ${outline(ink, 2 * u)}/>`;
  return heart + bubble + plane;
}
