// Compiled by tests/api/test_openapi_clients.py against the types openapi-typescript generates
// from the served schema (./tessera.ts, written there), with tsc --strict: what a TypeScript
// client of the API would write must type-check.
import type { components, paths } from "./tessera";

type Problem = components["schemas"]["ProblemOut"];
// RFC 9457: every member but the title may be absent, so any problem document fits.
export const minimal: Problem = { title: "Not found" };
export const full: Problem = {
  type: "https://tessera.example/api/v1/problems/validation-error",
  title: "Invalid request",
  status: 422,
  detail: "Check status.",
  errors: [{ loc: ["query", "status"], msg: "Input should be 'todo'", type: "enum" }],
};

type ListTasks = paths["/api/v1/projects/{project_id}/tasks"]["get"];
export const query: NonNullable<ListTasks["parameters"]["query"]> = { status: "done", page: 2 };
// @ts-expect-error an unknown status is not a TaskStatus
export const wrong: NonNullable<ListTasks["parameters"]["query"]> = { status: "finished" };
export const conditional: NonNullable<ListTasks["parameters"]["header"]> = {
  "If-None-Match": 'W/"abc"',
};
type Listed = ListTasks["responses"][200];
export const link: NonNullable<Listed["headers"]["Link"]> = '<https://t.example/?page=2>; rel="next"';
export const etag: NonNullable<Listed["headers"]["ETag"]> = '"abc"';
export const limit: NonNullable<Listed["headers"]["RateLimit"]> = '"token";r=1;t=2';
export const notModified: ListTasks["responses"][304]["content"] = undefined;
export const retry: NonNullable<ListTasks["responses"][429]["headers"]["Retry-After"]> = 30;

type CreateTask = paths["/api/v1/projects/{project_id}/tasks"]["post"];
export const key: NonNullable<CreateTask["parameters"]["header"]> = { "Idempotency-Key": "k-1" };

type Report = paths["/api/v1/credentials/revoke"]["post"];
export const report: Report["requestBody"]["content"]["application/json"] = {
  credentials: ["tsr_pat_x"],
};
