/** The "Defaults chosen" paragraph of the quality section, from this run's numbers. */
import { DEFAULT_POOLING } from "../../src/retrieval/descriptor.ts";
import { DESCRIPTOR_LABEL } from "../contenders/registry.ts";
import type { ResizeMode } from "../lib/feature-cache.ts";
import { bestPoolingMode } from "../lib/grid.ts";
import { fixed, pct } from "../lib/markdown.ts";
import type { RetrievalResult } from "./retrieval.ts";

export function qualityDefaults(
  museum: RetrievalResult,
  flowers: RetrievalResult,
  cifar: RetrievalResult,
  shippedMode: ResizeMode,
): string {
  const metric = (r: RetrievalResult, name: string, m: string) => r.rows.find((x) => x.name === name)?.metrics[m] ?? NaN;
  const shippedName = DESCRIPTOR_LABEL[DEFAULT_POOLING];
  const best = bestPoolingMode(shippedMode, (name) => metric(museum, name, "map"));
  const top = (r: RetrievalResult, m: string) => [...r.rows].sort((a, b) => b.metrics[m]! - a.metrics[m]!)[0]!;
  const whitened = `${shippedName} + PCAw`;
  const reranked = `${shippedName} + DBA + αQE`;
  return [
    "### Defaults chosen",
    "",
    `- **Pooling "${DEFAULT_POOLING}", resize "${shippedMode}"** were chosen on the repost benchmark (the bot's alarm), and cost nothing here: ` +
      `museum top-1 ${pct(metric(museum, shippedName, "top1"))}, mAP ${fixed(metric(museum, shippedName, "map"))} ` +
      `(best pooling × mode cell by mAP: ${DESCRIPTOR_LABEL[best.pooling]} "${best.mode}", ${fixed(best.score)}); flowers P@10 ` +
      `${fixed(metric(flowers, shippedName, "p10"))} (best contender ${top(flowers, "p10").name}, ${fixed(top(flowers, "p10").metrics.p10!)}); ` +
      `CIFAR P@10 ${fixed(metric(cifar, shippedName, "p10"))} (best ${top(cifar, "p10").name}, ${fixed(top(cifar, "p10").metrics.p10!)}). ` +
      "The poolings differ by a few points at most on these sets; the resize mode matters only for non-square pictures.",
    `- **Whitening cuts both ways**: ${whitened} changes museum mAP to ${fixed(metric(museum, whitened, "map"))} but flowers P@10 to ` +
      `${fixed(metric(flowers, whitened, "p10"))} and CIFAR P@10 to ${fixed(metric(cifar, whitened, "p10"))}: it removes exactly the ` +
      "shared, category-level directions that make two tulip photos alike. It belongs in the repost check, not in /similar's ranking.",
    `- **Re-ranking**: ${reranked} moves flowers mAP ${fixed(metric(flowers, shippedName, "map"))} → ${fixed(metric(flowers, reranked, "map"))}, ` +
      `CIFAR mAP ${fixed(metric(cifar, shippedName, "map"))} → ${fixed(metric(cifar, reranked, "map"))}, museum mAP ` +
      `${fixed(metric(museum, shippedName, "map"))} → ${fixed(metric(museum, reranked, "map"))}: a few hundredths at the price of a second search ` +
      "per query and re-augmenting stored vectors as the collection grows; not shipped.",
    "- **Query-time flip** stays on: it costs one more embedding per query and finds mirrored copies (peer fixtures: hflip, AugLy hflip).",
  ].join("\n");
}
