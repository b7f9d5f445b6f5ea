/**
 * Builds one quality evaluation's contender input: signals, CNN descriptors for the resize modes
 * compared (only the shipped mode for sets of square images, where the modes coincide), and the
 * learned projection trained on the stored images.
 */
import { DEFAULT_POOLING } from "../../src/retrieval/descriptor.ts";
import { DEFAULT_MODEL_ID, getModel } from "../../src/retrieval/models.ts";
import type { Classifier } from "../contenders/cam.ts";
import { learnProjection } from "../contenders/learned.ts";
import type { EvaluationInput } from "../contenders/registry.ts";
import { type DescribedCollection, describeCollection } from "../lib/collection.ts";
import type { ImageItem } from "../lib/datasets.ts";
import { LIBRARY_POOLINGS } from "../lib/descriptors.ts";
import { type FeatureCache, RESIZE_MODES, type ResizeMode } from "../lib/feature-cache.ts";
import { isRefusal, type Signals, signalsOf } from "../lib/signals.ts";

export interface QualityInput {
  readonly input: EvaluationInput;
  readonly learnedNote: () => string;
}

export interface QualityRequest {
  readonly stored: readonly ImageItem[];
  readonly queries: readonly ImageItem[] | "stored";
  /** Compare the three resize modes (only meaningful when images are not square). */
  readonly compareModes: boolean;
  readonly quick: boolean;
}

async function readable(items: readonly ImageItem[]): Promise<Signals[]> {
  const signals = await signalsOf(items);
  return signals.map((s, i) => {
    if (isRefusal(s)) throw new Error(`${items[i]!.file} could not be read: ${s.error}`);
    return s;
  });
}

export async function qualityInput(cache: FeatureCache, classifier: Classifier, request: QualityRequest): Promise<QualityInput> {
  const shippedMode = getModel(DEFAULT_MODEL_ID).input.resize;
  const modes: ResizeMode[] = request.compareModes ? [shippedMode, ...RESIZE_MODES.filter((m) => m !== shippedMode)] : [shippedMode];
  const described = new Map<ResizeMode, DescribedCollection>();
  for (const mode of modes) {
    described.set(
      mode,
      await describeCollection(cache, classifier, {
        stored: request.stored,
        queries: request.queries,
        mode,
        flip: true,
        descriptors: mode === shippedMode ? undefined : LIBRARY_POOLINGS,
      }),
    );
  }
  const storedSignals = await readable(request.stored);
  const querySignals = request.queries === "stored" ? storedSignals : await readable(request.queries);
  const shipped = described.get(shippedMode)!;
  let note = "";
  let learned: ReturnType<typeof learnProjection> | undefined;
  const loo = request.queries === "stored";
  return {
    input: {
      storedSignals,
      querySignals,
      described,
      shippedMode,
      self: loo ? request.stored.map((_, i) => i) : undefined,
      skip: loo ? request.stored.map((_, i) => new Set([i])) : undefined,
      learned: async () => {
        learned ??= learnProjection(cache, request.stored, shipped.stored.matrices.get(DEFAULT_POOLING)!, shippedMode, request.quick);
        const p = await learned;
        note = `${p.pairs} training pairs, triplet loss ${p.lossFirst.toFixed(3)} → ${p.lossLast.toFixed(3)}`;
        return p;
      },
    },
    learnedNote: () => note,
  };
}
