import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { PROJECT_ROOT } from '#drill/deployment';

/**
 * CloudFormation templates and IAM policies as the tests read them. `JSON.parse` gives no type;
 * these schemas type the parts the tests assert on and check them when read, so a template that
 * changed shape fails here with the path that changed. Objects are loose: every key the JSON has is
 * kept, so a parsed template still equals its JSON. Values the tests only compare whole (event
 * patterns, intrinsics such as `{ Ref }` or `{ 'Fn::Sub' }`) stay `unknown`.
 */

const strings = z.array(z.string());
/** A CloudFormation `{ Ref }` (what the tests read from a Ref-only property). */
const ref = z.looseObject({ Ref: z.string() });

export const statementSchema = z.looseObject({
  Sid: z.string().optional(),
  Effect: z.string(),
  Action: z.union([z.string(), strings]),
  Resource: z.unknown().optional(),
  Principal: z.unknown().optional(),
  Condition: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});
export type Statement = z.infer<typeof statementSchema>;

export const policyDocumentSchema = z.looseObject({ Version: z.string().optional(), Statement: z.array(statementSchema) });
export type PolicyDocument = z.infer<typeof policyDocumentSchema>;

/** The properties of each resource type the tests read, as far as they read them. */
const PROPERTIES = {
  'AWS::IAM::Role': z.looseObject({
    RoleName: z.unknown().optional(),
    AssumeRolePolicyDocument: policyDocumentSchema,
    Policies: z.array(z.looseObject({ PolicyName: z.unknown(), PolicyDocument: policyDocumentSchema })).optional(),
  }),
  'AWS::Events::Rule': z.looseObject({
    Description: z.string().optional(),
    EventPattern: z.unknown().optional(),
    ScheduleExpression: z.string().optional(),
    State: z.string().optional(),
    Targets: z.array(
      z.looseObject({ Id: z.string(), Arn: z.unknown(), RoleArn: z.unknown().optional(), DeadLetterConfig: z.unknown().optional() }),
    ),
  }),
  'AWS::Events::EventBusPolicy': z.looseObject({ Statement: statementSchema }),
  'AWS::Scheduler::Schedule': z.looseObject({
    ScheduleExpression: z.string(),
    Target: z.looseObject({ Arn: z.unknown(), RoleArn: z.unknown(), EventBridgeParameters: z.unknown().optional() }),
  }),
  'AWS::CloudFormation::StackSet': z.looseObject({
    PermissionModel: z.string(),
    AutoDeployment: z.unknown(),
    Capabilities: strings.optional(),
    TemplateBody: z.string(),
    StackInstancesGroup: z.array(z.looseObject({ DeploymentTargets: z.unknown(), Regions: z.unknown() })),
  }),
  'AWS::S3::Bucket': z.looseObject({
    BucketEncryption: z.looseObject({
      ServerSideEncryptionConfiguration: z.array(z.looseObject({ ServerSideEncryptionByDefault: z.unknown() })),
    }),
  }),
  'AWS::S3::BucketPolicy': z.looseObject({ Bucket: z.unknown(), PolicyDocument: policyDocumentSchema }),
  'AWS::CloudWatch::Alarm': z.looseObject({ MetricName: z.string().optional(), Namespace: z.string().optional() }),
  'AWS::SNS::Subscription': z.looseObject({ Endpoint: z.string(), TopicArn: ref }),
  'AWS::Lambda::Function': z.looseObject({
    Role: z.looseObject({ 'Fn::GetAtt': z.tuple([z.string(), z.string()]) }),
    Environment: z.looseObject({ Variables: z.record(z.string(), z.unknown()) }),
  }),
  'AWS::Lambda::EventInvokeConfig': z.looseObject({
    FunctionName: ref,
    DestinationConfig: z.record(z.string(), z.looseObject({ Destination: z.unknown() })).optional(),
  }),
} as const;
export type ResourceType = keyof typeof PROPERTIES;
export type PropertiesOf<T extends ResourceType> = z.infer<(typeof PROPERTIES)[T]>;

const resourceSchema = z.looseObject({
  Type: z.string(),
  Properties: z.record(z.string(), z.unknown()),
  DependsOn: z.union([z.string(), strings]).optional(),
});
/** A resource of any type: its properties are there, untyped, until `propertiesOf` reads them as its type. */
export type Resource = z.infer<typeof resourceSchema>;

const resourcesSchema = z.record(z.string(), resourceSchema);
const templateSchema = z.looseObject({
  AWSTemplateFormatVersion: z.string().optional(),
  Description: z.string().optional(),
  Parameters: z.record(z.string(), z.unknown()).optional(),
  Resources: resourcesSchema,
  Outputs: z.record(z.string(), z.looseObject({ Value: z.unknown() })).optional(),
});
export type Template = z.infer<typeof templateSchema>;

/** A template from its JSON text (a StackSet's TemplateBody, a file). */
export const parseTemplate = (json: string): Template => templateSchema.parse(JSON.parse(json));
/** A Resources section built in code (the config's bus policy, a member template from the builder). */
export const parseResources = (value: unknown): Record<string, Resource> => resourcesSchema.parse(value);
/** An IAM policy document from its JSON text (the SCP). */
export const parsePolicyDocument = (json: string): PolicyDocument => policyDocumentSchema.parse(JSON.parse(json));

/** A file `serverless package --stage test` wrote into .serverless/ (the responder's template, the member templates, the SCP). */
export const packagedText = (file: string): string => readFileSync(join(PROJECT_ROOT, '.serverless', file), 'utf8');
export const packagedTemplate = (file = 'cloudformation-template-update-stack.json'): Template => parseTemplate(packagedText(file));

/** A resource's properties, read as its type's (it must be of that type). */
export function propertiesOf<T extends ResourceType>(resource: Resource, type: T): PropertiesOf<T> {
  if (resource.Type !== type) throw new Error(`Expected a ${type}, found a ${resource.Type}`);
  // The schema is this type's; TypeScript does not narrow an index of the map by a generic key.
  return PROPERTIES[type].parse(resource.Properties) as PropertiesOf<T>;
}

/** The properties of the resource with this logical id, which must be there and of this type. */
export function propertiesAt<T extends ResourceType>(resources: Record<string, Resource>, id: string, type: T): PropertiesOf<T> {
  const resource = resources[id];
  if (!resource) throw new Error(`No resource ${id} in the template`);
  return propertiesOf(resource, type);
}

/** Every resource of one type, by logical id, with its properties read as that type's (untyped for a type no schema covers). */
export function resourcesOfType<T extends ResourceType>(
  resources: Record<string, Resource>,
  type: T,
): [id: string, resource: Resource & { Properties: PropertiesOf<T> }][];
export function resourcesOfType(resources: Record<string, Resource>, type: string): [id: string, resource: Resource][];
export function resourcesOfType(resources: Record<string, Resource>, type: string): [id: string, resource: Resource][] {
  return Object.entries(resources)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => [id, isCovered(type) ? { ...r, Properties: propertiesOf(r, type) } : r]);
}
const isCovered = (type: string): type is ResourceType => type in PROPERTIES;
