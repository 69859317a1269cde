/** A template's resources, as these bounds read them. */
type Resources = Record<string, { Type: string; Properties: Record<string, any> }>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Lambda's limit on a function's environment: 4 KB in all (4096 bytes), measured on the JSON of
 * the variables map, keys and values with their quotes, separators and escapes (its error quotes
 * the "String measured": `{"KEY":"value",...}`). In the template some values are intrinsics, known
 * only at deploy time; each is counted at an upper bound of what it resolves to, chosen by what it
 * names (a placeholder of that many characters, none of which JSON escapes):
 * - AWS::Partition: 10, `aws-us-gov`, the longest partition (aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc).
 * - AWS::Region: 20, above the longest region code (15: `us-isof-south-1`). AWS::AccountId: 12 digits.
 * - AWS::URLSuffix: 16, `amazonaws.com.cn` (China). AWS::StackName: 128, CloudFormation's maximum.
 * - A name CloudFormation generates (the resource gives none): `<stack name>-<logical id>-<suffix>`,
 *   so at most 128 + 1 + the logical id + 1 + 13, and never over the service's own maximum
 *   (DynamoDB table 255, SNS topic 256, SQS queue 80, S3 bucket 63). A name the resource gives is its own length.
 * - Ref of a table or bucket: its name. Ref of an SNS topic: its ARN, `arn:<partition>:sns:<region>:<account>:<name>`.
 *   Fn::GetAtt Arn of a queue: `arn:<partition>:sqs:<region>:<account>:<name>`.
 * - Fn::GetAtt Key of Custom::BaselineConfig: `baseline/<64 hex digits>.json`.
 * - Fn::GetAtt ApiEndpoint of an HTTP API: `https://<10-character api id>.execute-api.<region>.<URLSuffix>`.
 * - Fn::Join and Fn::Sub: their parts, each part at its bound.
 * Anything else has no bound yet: the test fails and names it, so a new intrinsic is sized before it deploys.
 */
export const LAMBDA_ENVIRONMENT_LIMIT = 4096;
const PSEUDO_BOUNDS: Record<string, number> = {
  'AWS::Partition': 10,
  'AWS::Region': 20,
  'AWS::AccountId': 12,
  'AWS::URLSuffix': 16,
  'AWS::StackName': 128,
};
/** Resource type -> the property that names it, and the service's maximum name length. */
const NAMES: Record<string, { property: string; max: number }> = {
  'AWS::DynamoDB::Table': { property: 'TableName', max: 255 },
  'AWS::SNS::Topic': { property: 'TopicName', max: 256 },
  'AWS::SQS::Queue': { property: 'QueueName', max: 80 },
  'AWS::S3::Bucket': { property: 'BucketName', max: 63 },
};
export const placeholder = (length: number) => 'x'.repeat(length);

/** The bounds for one template (`template()`: its resources, read when a bound is asked for). */
export function environmentBounds(template: () => Resources) {
  function nameBound(id: string): string {
    const resource = template()[id];
    const naming = resource && NAMES[resource.Type];
    if (!resource || !naming)
      throw new Error(`No environment size bound for the name of ${id} (${resource?.Type ?? 'not in the template'})`);
    const given: unknown = resource.Properties[naming.property];
    if (given !== undefined) return boundOf(given);
    return placeholder(Math.min(naming.max, PSEUDO_BOUNDS['AWS::StackName']! + 1 + id.length + 1 + 13));
  }

  const arnBound = (service: string, id: string) =>
    [
      'arn',
      placeholder(PSEUDO_BOUNDS['AWS::Partition']!),
      service,
      placeholder(PSEUDO_BOUNDS['AWS::Region']!),
      placeholder(PSEUDO_BOUNDS['AWS::AccountId']!),
      nameBound(id),
    ].join(':');

  function refBound(name: string): string {
    if (PSEUDO_BOUNDS[name] !== undefined) return placeholder(PSEUDO_BOUNDS[name]);
    const resources = template();
    switch (resources[name]?.Type) {
      case 'AWS::DynamoDB::Table':
      case 'AWS::S3::Bucket':
        return nameBound(name);
      case 'AWS::SNS::Topic':
        return arnBound('sns', name);
      default:
        throw new Error(`No environment size bound for Ref ${name} (${resources[name]?.Type ?? 'not in the template'})`);
    }
  }

  function getAttBound(id: string, attribute: string): string {
    const type = template()[id]?.Type;
    if (type === 'AWS::SQS::Queue' && attribute === 'Arn') return arnBound('sqs', id);
    // The baseline object's key: baseline/<SHA-256 in hex>.json.
    if (type === 'Custom::BaselineConfig' && attribute === 'Key') return `baseline/${placeholder(64)}.json`;
    if (type === 'AWS::ApiGatewayV2::Api' && attribute === 'ApiEndpoint')
      return `https://${placeholder(10)}.execute-api.${placeholder(PSEUDO_BOUNDS['AWS::Region']!)}.${placeholder(PSEUDO_BOUNDS['AWS::URLSuffix']!)}`;
    throw new Error(`No environment size bound for Fn::GetAtt ${id}.${attribute} (${type ?? 'not in the template'})`);
  }

  /** The longest string a template value can resolve to (its own text where it is a literal). */
  function boundOf(value: unknown): string {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    const v = value as {
      Ref?: string;
      'Fn::GetAtt'?: [string, string] | string;
      'Fn::Join'?: [string, unknown[]];
      'Fn::Sub'?: string | [string, Record<string, unknown>];
    };
    if (v.Ref !== undefined) return refBound(v.Ref);
    if (v['Fn::GetAtt'] !== undefined) {
      const [id, attribute] = typeof v['Fn::GetAtt'] === 'string' ? (v['Fn::GetAtt'].split('.') as [string, string]) : v['Fn::GetAtt'];
      return getAttBound(id, attribute);
    }
    if (v['Fn::Join'] !== undefined) return v['Fn::Join'][1].map(boundOf).join(v['Fn::Join'][0]);
    if (v['Fn::Sub'] !== undefined) {
      const [text, variables] = typeof v['Fn::Sub'] === 'string' ? [v['Fn::Sub'], {}] : v['Fn::Sub'];
      return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
        if (variables[name] !== undefined) return boundOf(variables[name]);
        const dot = name.indexOf('.');
        return dot < 0 || PSEUDO_BOUNDS[name] !== undefined ? refBound(name) : getAttBound(name.slice(0, dot), name.slice(dot + 1));
      });
    }
    throw new Error(`No environment size bound for ${JSON.stringify(value)}`);
  }

  /** A function's environment as Lambda measures it: the JSON of the variables, each intrinsic at its bound. */
  const environmentBytes = (variables: Record<string, unknown>) =>
    Buffer.byteLength(JSON.stringify(Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, boundOf(v)]))), 'utf8');

  return { boundOf, environmentBytes, placeholder };
}
