import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { asText } from '#shared/text';

/**
 * An in-memory stand-in for the DynamoDB document client, for the drill and for stateful tests.
 * It understands exactly the expressions this project writes (attribute_[not_]exists, `a = :v`,
 * `a < :v` and the other comparisons, begins_with(a, :p), joined by AND and OR, `SET a = :v, ...`,
 * `ADD a :n`, `pk = :pk AND begins_with(sk, :p)`, a Scan's FilterExpression in the same words) and refuses anything
 * else, so a new expression in the code fails loudly here instead of passing by accident.
 */
type Item = Record<string, unknown>;
type Values = Record<string, unknown> | undefined;
type Names = Record<string, string> | undefined;

class ConditionalCheckFailedException extends Error {
  override name = 'ConditionalCheckFailedException';
}
class TransactionCanceledException extends Error {
  override name = 'TransactionCanceledException';
  constructor(readonly CancellationReasons: { Code: string }[]) {
    super('Transaction cancelled');
  }
}
class UnsupportedExpressionError extends Error {
  override name = 'UnsupportedExpressionError';
}

/**
 * DynamoDB's item size limit, enforced as AWS enforces it:
 * - "The maximum item size in DynamoDB is 400 KB, which includes both attribute name binary length
 *   (UTF-8 length) and attribute value lengths (again binary length)", and "DynamoDB denotes
 *   1 KB = 1024 bytes" (Developer Guide, Constraints), so the limit is 409,600 bytes (dynalite,
 *   which this project also tests against, uses the same number).
 * - Size rules (Developer Guide, "DynamoDB item sizes and formats"): a string is its UTF-8 bytes;
 *   a number is "approximately (1 byte per two significant digits) + (1 byte)", leading and
 *   trailing zeroes trimmed; binary is its raw bytes; null and Boolean are 1 byte; a List or Map
 *   is 3 bytes plus its elements, each element 1 byte more; every attribute adds its name's UTF-8
 *   bytes. `itemSize` follows these rules. Approximations: a number's size ignores sign and
 *   exponent (the guide itself says "approximately"); a set counts its members without overhead
 *   (the guide gives none); the 100 bytes of per-item storage overhead are billing only and not
 *   part of the limit.
 * - The errors: PutItem answers ValidationException "Item size has exceeded the maximum allowed
 *   size" (getmoto/moto and dynalite raise this text; reported from AWS in
 *   justinram11/langgraph-checkpoint-dynamodb#2 and forta-network/starter-kits#252); UpdateItem,
 *   whose result is what grows past the limit, answers "Item size to update has exceeded the
 *   maximum allowed size" (dynalite actions/updateItem.js, moto ItemSizeToUpdateTooLarge).
 *   TransactWriteItems: the API reference lists "an item size becomes too large (larger than
 *   400 KB) ... because of changes made by the transaction" under TransactionCanceledException,
 *   which is an Update growing an item; a Put whose Item is itself over the limit is refused by
 *   request validation before any condition is read, as ValidationException "Item size has
 *   exceeded the maximum allowed size" (dynalite validations/transactWriteItems.js; moto re-raises
 *   its ItemSizeTooLarge from transact_write_items as the same ValidationException). This
 *   simulator's transactions support Put only, so that is the answer here.
 * ValidationException is not a modeled DynamoDB error: the SDK v3 delivers it as its
 * DynamoDBServiceException with name "ValidationException", and so does this simulator.
 */
export const DYNAMODB_MAX_ITEM_BYTES = 409_600;

function validationException(message: string): DynamoDBServiceException {
  return new DynamoDBServiceException({ name: 'ValidationException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message });
}

/** A number's size per the guide: 1 byte per two significant digits, plus 1. */
function numberSize(value: number | bigint | string): number {
  const digits = String(value)
    .replace(/^-/, '')
    .replace(/e[+-]?\d+$/i, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}

/** The size of one attribute value, as the document client would marshal it. */
function valueSize(value: unknown): number {
  if (value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number' || typeof value === 'bigint') return numberSize(value);
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) return [...(value as Set<unknown>)].reduce<number>((sum, v) => sum + valueSize(v), 0);
  if (Array.isArray(value)) return 3 + value.reduce<number>((sum, v) => sum + 1 + valueSize(v), 0);
  if (typeof value === 'object') {
    // A NumberValue (lib-dynamodb's exact numbers) marshals as N; any other object is a Map.
    if (value.constructor?.name === 'NumberValue') return numberSize(asText(value));
    return (
      3 +
      Object.entries(value as Record<string, unknown>).reduce(
        (sum, [k, v]) => (v === undefined ? sum : sum + 1 + Buffer.byteLength(k, 'utf8') + valueSize(v)),
        0,
      )
    );
  }
  return 0; // undefined: the document client drops it (removeUndefinedValues) or refuses it
}

/** An item's size in bytes by DynamoDB's rules: each attribute name's UTF-8 bytes plus its value's size. */
export function itemSize(item: Record<string, unknown>): number {
  return Object.entries(item).reduce(
    (sum, [name, value]) => (value === undefined ? sum : sum + Buffer.byteLength(name, 'utf8') + valueSize(value)),
    0,
  );
}

function resolveName(token: string, names: Names): string {
  return token.startsWith('#') ? (names?.[token] ?? token) : token;
}

function operand(token: string, item: Item | undefined, names: Names, values: Values): unknown {
  return token.startsWith(':') ? values?.[token] : item?.[resolveName(token, names)];
}

/** DynamoDB compares numbers as numbers and strings as strings; any other pairing is false. */
function compare(a: unknown, op: string, b: unknown): boolean {
  if (op === '=') return a !== undefined && a === b;
  if (op === '<>') return a !== undefined && a !== b;
  if (!(typeof a === 'number' && typeof b === 'number') && !(typeof a === 'string' && typeof b === 'string')) return false;
  return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
}

function check(item: Item | undefined, expression: string | undefined, names: Names, values: Values): boolean {
  if (!expression) return true;
  // AND binds tighter than OR (no parentheses in this project's expressions).
  return expression.split(/\s+OR\s+/i).some((alternative) =>
    alternative.split(/\s+AND\s+/i).every((clause) => {
      const c = clause.trim();
      let m = /^attribute_not_exists\((#?\w+)\)$/.exec(c);
      if (m) return item === undefined || item[resolveName(m[1]!, names)] === undefined;
      m = /^attribute_exists\((#?\w+)\)$/.exec(c);
      if (m) return item !== undefined && item[resolveName(m[1]!, names)] !== undefined;
      m = /^(#?\w+)\s*(=|<>|<=|>=|<|>)\s*(:\w+)$/.exec(c);
      if (m) return item !== undefined && compare(operand(m[1]!, item, names, values), m[2]!, operand(m[3]!, item, names, values));
      m = /^begins_with\((#?\w+),\s*(:\w+)\)$/.exec(c);
      if (m) {
        const value = item?.[resolveName(m[1]!, names)];
        return typeof value === 'string' && value.startsWith(String(values?.[m[2]!]));
      }
      throw new UnsupportedExpressionError(`Simulated DynamoDB does not understand condition "${c}"`);
    }),
  );
}

/**
 * `SET a = :v, b = if_not_exists(b, :w)` and `ADD n :one` (numbers), either or both: what the code
 * writes. Anything else is refused.
 */
function applyUpdate(item: Item, expression: string, names: Names, values: Values): void {
  const m = /^\s*(?:SET\s+(.+?))?\s*(?:ADD\s+(.+))?$/i.exec(expression);
  if (!m || (!m[1] && !m[2])) throw new UnsupportedExpressionError(`Simulated DynamoDB does not understand update "${expression}"`);
  for (const assignment of m[1] ? m[1].split(/,(?![^(]*\))/) : []) {
    const a = /^\s*(#?\w+)\s*=\s*(:\w+)\s*$/.exec(assignment);
    const ifNotExists = /^\s*(#?\w+)\s*=\s*if_not_exists\(\s*(#?\w+)\s*,\s*(:\w+)\s*\)\s*$/.exec(assignment);
    if (a) item[resolveName(a[1]!, names)] = structuredClone(values?.[a[2]!]);
    else if (ifNotExists && ifNotExists[1] === ifNotExists[2]) {
      const name = resolveName(ifNotExists[1]!, names);
      if (item[name] === undefined) item[name] = structuredClone(values?.[ifNotExists[3]!]);
    } else throw new UnsupportedExpressionError(`Simulated DynamoDB does not understand "${assignment}"`);
  }
  for (const addition of m[2] ? m[2].split(',') : []) {
    const a = /^\s*(#?\w+)\s+(:\w+)\s*$/.exec(addition);
    const by = a ? values?.[a[2]!] : undefined;
    if (!a || typeof by !== 'number') throw new UnsupportedExpressionError(`Simulated DynamoDB does not understand "ADD ${addition}"`);
    const name = resolveName(a[1]!, names);
    const current = item[name] ?? 0;
    if (typeof current !== 'number') throw validationException('An operand in the update expression has an incorrect data type');
    item[name] = current + by;
  }
}

/** Items per Query page (DynamoDB pages at 1 MB; the drill's items are small, so a count stands in). */
export const QUERY_PAGE_ITEMS = 250;

export class SimulatedDynamoDb {
  private readonly tables = new Map<string, Map<string, Item>>();
  /** Every command received, by name: tests count writes with this. */
  readonly calls: { command: string; input: unknown }[] = [];

  private table(name: string): Map<string, Item> {
    let t = this.tables.get(name);
    if (!t) {
      t = new Map();
      this.tables.set(name, t);
    }
    return t;
  }

  private static id(key: Item): string {
    return `${String(key['pk'])}\u0000${String(key['sk'])}`;
  }

  items(table: string): Item[] {
    return [...this.table(table).values()].map((i) => structuredClone(i));
  }

  /**
   * Commands are told apart by their class name, not `instanceof`: the deployed handlers run as
   * bundles, each with its own copy of the SDK's classes (esbuild's keepNames keeps the names).
   */
  async send(command: unknown): Promise<Record<string, unknown>> {
    const input = structuredClone((command as { input: Record<string, unknown> }).input);
    this.calls.push({ command: (command as object).constructor.name, input });
    await Promise.resolve();
    if (isCommand<GetCommand>(command, 'GetCommand')) {
      const item = this.table(command.input.TableName!).get(SimulatedDynamoDb.id(command.input.Key!));
      return { Item: item ? structuredClone(item) : undefined };
    }
    if (isCommand<PutCommand>(command, 'PutCommand')) {
      this.put(command.input as unknown as PutInput);
      return {};
    }
    if (isCommand<UpdateCommand>(command, 'UpdateCommand')) {
      const i = command.input;
      const t = this.table(i.TableName!);
      const id = SimulatedDynamoDb.id(i.Key!);
      const current = t.get(id);
      if (!check(current, i.ConditionExpression, i.ExpressionAttributeNames, i.ExpressionAttributeValues))
        throw new ConditionalCheckFailedException('The conditional request failed');
      const next: Item = { ...(current ?? { ...i.Key }) };
      applyUpdate(next, i.UpdateExpression ?? '', i.ExpressionAttributeNames, i.ExpressionAttributeValues);
      if (itemSize(next) > DYNAMODB_MAX_ITEM_BYTES) throw validationException('Item size to update has exceeded the maximum allowed size');
      t.set(id, next);
      return i.ReturnValues === 'ALL_NEW' ? { Attributes: structuredClone(next) } : {};
    }
    if (isCommand<DeleteCommand>(command, 'DeleteCommand')) {
      const i = command.input;
      const t = this.table(i.TableName!);
      const id = SimulatedDynamoDb.id(i.Key!);
      if (!check(t.get(id), i.ConditionExpression, i.ExpressionAttributeNames, i.ExpressionAttributeValues))
        throw new ConditionalCheckFailedException('The conditional request failed');
      t.delete(id);
      return {};
    }
    if (isCommand<TransactWriteCommand>(command, 'TransactWriteCommand')) {
      const puts = (command.input.TransactItems ?? []).map((ti) => {
        if (!ti.Put) throw new UnsupportedExpressionError('Simulated DynamoDB transactions support Put only');
        return ti.Put as unknown as PutInput;
      });
      // Request validation: an oversized Put refuses the whole request before any condition is read.
      if (puts.some((p) => itemSize(p.Item) > DYNAMODB_MAX_ITEM_BYTES))
        throw validationException('Item size has exceeded the maximum allowed size');
      const reasons = puts.map((p) =>
        check(
          this.table(p.TableName).get(SimulatedDynamoDb.id(p.Item)),
          p.ConditionExpression,
          p.ExpressionAttributeNames,
          p.ExpressionAttributeValues,
        )
          ? { Code: 'None' }
          : { Code: 'ConditionalCheckFailed' },
      );
      if (reasons.some((r) => r.Code !== 'None')) throw new TransactionCanceledException(reasons);
      for (const p of puts) this.table(p.TableName).set(SimulatedDynamoDb.id(p.Item), structuredClone(p.Item));
      return {};
    }
    if (isCommand<QueryCommand>(command, 'QueryCommand')) {
      const i = command.input;
      const m = /^pk = (:\w+)(?: AND begins_with\(sk, (:\w+)\))?$/.exec(i.KeyConditionExpression ?? '');
      if (!m) throw new UnsupportedExpressionError(`Simulated DynamoDB does not understand key condition "${i.KeyConditionExpression}"`);
      const pk: unknown = i.ExpressionAttributeValues?.[m[1]!];
      const prefix = m[2] ? String(i.ExpressionAttributeValues?.[m[2]]) : '';
      const after = i.ExclusiveStartKey ? String(i.ExclusiveStartKey['sk']) : undefined;
      const matching = [...this.table(i.TableName!).values()]
        .filter((it) => it['pk'] === pk && String(it['sk']).startsWith(prefix) && (after === undefined || String(it['sk']) > after))
        .sort((a, b) => (String(a['sk']) < String(b['sk']) ? -1 : 1));
      // Pages as DynamoDB does (by size there; by count here), so callers must follow LastEvaluatedKey.
      const page = matching.slice(0, Math.min(i.Limit ?? QUERY_PAGE_ITEMS, QUERY_PAGE_ITEMS)).map((it) => structuredClone(it));
      const last = page[page.length - 1];
      return {
        Items: page,
        Count: page.length,
        ...(matching.length > page.length && last ? { LastEvaluatedKey: { pk: last['pk'], sk: last['sk'] } } : {}),
      };
    }
    if (isCommand<ScanCommand>(command, 'ScanCommand')) {
      const i = command.input;
      // Scan order is DynamoDB's own (by hash); here the order of the keys, which callers must not rely on either.
      const all = [...this.table(i.TableName!).entries()].sort(([a], [b]) => (a < b ? -1 : 1));
      const startId = i.ExclusiveStartKey ? SimulatedDynamoDb.id(i.ExclusiveStartKey) : undefined;
      const rest = all.filter(([id]) => startId === undefined || id > startId);
      // DynamoDB pages before it filters: a page may hold fewer matches than it read.
      const read = rest.slice(0, Math.min(i.Limit ?? QUERY_PAGE_ITEMS, QUERY_PAGE_ITEMS));
      const page = read
        .map(([, it]) => it)
        .filter((it) => check(it, i.FilterExpression, i.ExpressionAttributeNames, i.ExpressionAttributeValues))
        .map((it) => structuredClone(it));
      const last = read[read.length - 1]?.[1];
      return {
        Items: page,
        Count: page.length,
        ...(rest.length > read.length && last ? { LastEvaluatedKey: { pk: last['pk'], sk: last['sk'] } } : {}),
      };
    }
    throw new UnsupportedExpressionError(`Simulated DynamoDB does not support ${(command as object).constructor.name}`);
  }

  private put(p: PutInput): void {
    if (itemSize(p.Item) > DYNAMODB_MAX_ITEM_BYTES) throw validationException('Item size has exceeded the maximum allowed size');
    const t = this.table(p.TableName);
    const id = SimulatedDynamoDb.id(p.Item);
    if (!check(t.get(id), p.ConditionExpression, p.ExpressionAttributeNames, p.ExpressionAttributeValues))
      throw new ConditionalCheckFailedException('The conditional request failed');
    t.set(id, structuredClone(p.Item));
  }
}

interface PutInput {
  TableName: string;
  Item: Item;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Names;
  ExpressionAttributeValues?: Values;
}

/** Whether `command` is an SDK command of that class (by name: bundles carry their own SDK copies). */
export function isCommand<T>(command: unknown, name: string): command is T {
  return typeof command === 'object' && command !== null && command.constructor.name === name;
}
