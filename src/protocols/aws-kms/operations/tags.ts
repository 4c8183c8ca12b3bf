/** Tag operations: TagResource, UntagResource, ListResourceTags (at most 50 tags; `aws:` reserved). */
import { LIMITS } from '../../../core/limits.js';
import { operation } from '../operation.js';
import { KEY_ID, int, list, optional, required, str } from '../shapes.js';
import { pageOf, truncation } from '../wire.js';
import { TAG_LIST, tagMap, type Tag } from './keys.js';

export const TAG_OPERATIONS = {
  TagResource: operation<{ KeyId: string; Tags: Tag[] }>({ KeyId: required(KEY_ID), Tags: required(TAG_LIST) }, async (service, ctx, i) => {
    await service.keys.tag(ctx, i.KeyId, tagMap(i.Tags));
    return {};
  }),

  UntagResource: operation<{ KeyId: string; TagKeys: string[] }>(
    { KeyId: required(KEY_ID), TagKeys: required(list(str({ min: 1, max: 128 }))) },
    async (service, ctx, i) => {
      await service.keys.untag(ctx, i.KeyId, i.TagKeys);
      return {};
    },
  ),

  ListResourceTags: operation<{ KeyId: string; Limit?: number; Marker?: string }>(
    { KeyId: required(KEY_ID), Limit: optional(int(1, LIMITS.tagsPerKey)), Marker: optional(str({ min: 1, max: 8192 })) },
    async (service, ctx, i) => {
      const tags = Object.entries(await service.keys.listTags(ctx, i.KeyId)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const page = pageOf(tags, i.Limit ?? LIMITS.tagsPerKey, i.Marker);
      return { Tags: page.items.map(([TagKey, TagValue]) => ({ TagKey, TagValue })), ...truncation(page.nextMarker) };
    },
  ),
};
