/**
 * CNN descriptors of an evaluation's stored images and queries, for one resize mode: every
 * descriptor at once, the queries' mirror images too when asked. PWA's part channels are chosen on
 * the stored images (a first pass gives their channel averages), as the paper does on its index.
 */

import type { Classifier } from "../contenders/cam.ts";
import { selectPartChannels } from "../contenders/pwa.ts";
import type { ImageItem } from "./datasets.ts";
import { CNN_DESCRIPTORS, type CnnDescriptor, type Described, describe } from "./descriptors.ts";
import type { FeatureCache, ResizeMode } from "./feature-cache.ts";

export interface DescribedCollection {
  readonly stored: Described;
  /** Same object as `stored` for leave-one-out evaluations. */
  readonly queries: Described;
  readonly mirrored?: Described;
  readonly partChannels: number[];
}

export interface CollectionRequest {
  readonly stored: readonly ImageItem[];
  /** "stored" for leave-one-out: every stored image is also a query. */
  readonly queries: readonly ImageItem[] | "stored";
  readonly mode: ResizeMode;
  readonly flip: boolean;
  readonly descriptors?: readonly CnnDescriptor[];
}

export async function describeCollection(
  cache: FeatureCache,
  classifier: Classifier,
  request: CollectionRequest,
): Promise<DescribedCollection> {
  const wanted = request.descriptors ?? CNN_DESCRIPTORS;
  const needsParts = wanted.includes("pwa");
  const withoutPwa = wanted.filter((d) => d !== "pwa");
  const storedRequests = request.stored.map((item) => ({ item, mode: request.mode }));
  const first = await describe(cache, storedRequests, { descriptors: withoutPwa, classifier, averages: needsParts });
  const partChannels = needsParts ? selectPartChannels(first.averages.filter((_, i) => !first.errors[i])) : [];
  let stored: Described = first;
  if (needsParts) {
    const second = await describe(cache, storedRequests, { descriptors: ["pwa"], partChannels });
    stored = { ...first, matrices: new Map([...first.matrices, ...second.matrices]) };
  }
  const options = { descriptors: wanted, classifier, partChannels };
  const queryItems = request.queries === "stored" ? request.stored : request.queries;
  const queries =
    request.queries === "stored"
      ? stored
      : await describe(
          cache,
          queryItems.map((item) => ({ item, mode: request.mode })),
          options,
        );
  const mirrored = request.flip
    ? await describe(
        cache,
        queryItems.map((item) => ({ item, mode: request.mode, flipped: true })),
        options,
      )
    : undefined;
  return { stored, queries, mirrored, partChannels };
}
