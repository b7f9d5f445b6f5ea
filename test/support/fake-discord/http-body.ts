import { contentTypeForName } from "./cdn.ts";
import { DiscordApiError } from "./errors.ts";
import type { RecordedFile } from "./request-log.ts";

export interface ParsedBody {
  json: unknown;
  files: RecordedFile[];
}

/**
 * discord.js sends JSON, or multipart with a `payload_json` part plus `files[n]` parts when it
 * uploads. Multipart is parsed with the built-in fetch `Response.formData()`.
 */
export async function parseRequestBody(contentType: string | undefined, body: Buffer): Promise<ParsedBody> {
  if (body.length === 0) return { json: undefined, files: [] };
  const type = contentType?.toLowerCase() ?? "";
  if (type.startsWith("multipart/form-data")) return parseMultipart(contentType as string, body);
  if (type.startsWith("application/json")) return { json: parseJson(body.toString("utf8")), files: [] };
  return { json: body.toString("utf8"), files: [] };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new DiscordApiError(400, 50109, "The request body contains invalid JSON.");
  }
}

async function parseMultipart(contentType: string, body: Buffer): Promise<ParsedBody> {
  const form = await new Response(body, { headers: { "content-type": contentType } }).formData();
  const files: RecordedFile[] = [];
  const plainFields: Record<string, string> = {};
  let json: unknown;
  for (const [field, value] of form.entries()) {
    if (typeof value !== "string") {
      files.push({
        field,
        name: value.name,
        contentType: value.type || contentTypeForName(value.name),
        bytes: Buffer.from(await value.arrayBuffer()),
      });
    } else if (field === "payload_json") {
      json = parseJson(value);
    } else {
      plainFields[field] = value;
    }
  }
  // Without payload_json, Discord reads message fields from plain form fields.
  return { json: json ?? (Object.keys(plainFields).length > 0 ? plainFields : undefined), files };
}
