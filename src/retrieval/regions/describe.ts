/** Says in words where in the query a stored picture was found ("in the top-left tile of a collage"). */
import type { MatchedRegion } from "../reposts.ts";

type Fractions = readonly [number, number, number, number];

/** "top-left", "bottom", "centre"… from where the box's centre lies in thirds of the image. */
export function position([x, y, width, height]: Fractions): string {
  const third = (at: number) => (at < 1 / 3 ? 0 : at < 2 / 3 ? 1 : 2);
  const row = ["top", "", "bottom"][third(y + height / 2)]!;
  const column = ["left", "", "right"][third(x + width / 2)]!;
  return [row, column].filter(Boolean).join("-") || "centre";
}

const WHOLE_SHARE = 0.99;

export function describeRegion(region: MatchedRegion): string {
  const share = Math.round(region.query[2] * region.query[3] * 100);
  const where =
    region.kind === "tile"
      ? `in the ${position(region.query)} tile of a collage`
      : region.kind === "content"
        ? `inside a frame (the picture fills ${share} % of the image, ${position(region.query)})`
        : region.query[2] * region.query[3] >= WHOLE_SHARE
          ? "in the whole image"
          : `in the ${position(region.query)} part of the image`;
  const [, , width, height] = region.match;
  return width * height >= WHOLE_SHARE ? where : `${where}, showing the ${position(region.match)} part of the original`;
}

const rounded = (box: Fractions): number[] => box.map((v) => Math.round(v * 1000) / 1000);

/** The CLI JSON's optional `region` field: the matched box in the query and in the stored image. */
export function regionField(region: MatchedRegion | undefined): { region?: { query: number[]; match: number[] } } {
  return region ? { region: { query: rounded(region.query), match: rounded(region.match) } } : {};
}
