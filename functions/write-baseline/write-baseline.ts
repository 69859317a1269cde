import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { parseBaseline } from '#shared/config';
import { describeError } from '#shared/errors';

/**
 * The CloudFormation custom resource `Custom::BaselineConfig`: the stack writes the baseline object
 * (config/load.cjs builds it from the stage file at package time) to the config bucket, under a key
 * that carries its SHA-256. Create and Update write it; Delete removes it (CloudFormation sends the
 * old properties' Delete when an update changed the key, so one object is left, the current one).
 * Every request is answered (SUCCESS or FAILED with the reason): an unanswered custom resource holds
 * the stack for an hour.
 */
export const BaselineRequestSchema = z.object({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  ResponseURL: z.url(),
  StackId: z.string().min(1),
  RequestId: z.string().min(1),
  LogicalResourceId: z.string().min(1),
  PhysicalResourceId: z.string().optional(),
  ResourceProperties: z.object({
    Bucket: z.string().min(3),
    Key: z.string().min(1),
    Body: z.string(),
  }),
});
export type BaselineRequest = z.infer<typeof BaselineRequestSchema>;

export interface WriteBaselineDeps {
  s3: { send(command: PutObjectCommand | DeleteObjectCommand): Promise<unknown> };
  /** PUT the response document to the request's presigned ResponseURL. */
  respond: (url: string, body: string) => Promise<void>;
}

export interface BaselineResponse {
  Status: 'SUCCESS' | 'FAILED';
  /** `Fn::GetAtt [BaselineConfig, Key]`: the functions' BASELINE_OBJECT, so they are updated after the object is written. */
  Data?: { Key: string };
  Reason?: string;
  PhysicalResourceId: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
}

export async function writeBaseline(request: BaselineRequest, deps: WriteBaselineDeps): Promise<BaselineResponse> {
  const { Bucket, Key, Body } = request.ResourceProperties;
  const physicalId = `s3://${Bucket}/${Key}`;
  let response: BaselineResponse;
  try {
    if (request.RequestType === 'Delete') {
      // A failed Create leaves a physical id that names no object of ours: nothing to delete then.
      if (request.PhysicalResourceId === physicalId) await deps.s3.send(new DeleteObjectCommand({ Bucket, Key }));
    } else {
      // The body must be what its key says (and a valid baseline) before anything reads it.
      parseBaseline(Body, Key);
      await deps.s3.send(new PutObjectCommand({ Bucket, Key, Body, ContentType: 'application/json' }));
    }
    const kept = request.RequestType === 'Delete' ? (request.PhysicalResourceId ?? physicalId) : physicalId;
    response = { Status: 'SUCCESS', PhysicalResourceId: kept, Data: { Key }, ...ids(request) };
  } catch (error) {
    const { name, message } = describeError(error);
    response = {
      Status: 'FAILED',
      Reason: `${name}: ${message}`.slice(0, 1000),
      PhysicalResourceId: request.PhysicalResourceId ?? physicalId,
      ...ids(request),
    };
  }
  await deps.respond(request.ResponseURL, JSON.stringify(response));
  return response;
}

const ids = (request: BaselineRequest) => ({
  StackId: request.StackId,
  RequestId: request.RequestId,
  LogicalResourceId: request.LogicalResourceId,
});

/** Writes and deletes the baseline object only (infra/roles.cjs scopes them to `baseline/*` in the config bucket). */
export const requiredPermissions = ['s3:PutObject', 's3:DeleteObject'] as const;
