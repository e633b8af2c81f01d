// simulate.mjs answers IAM questions with a policy evaluation engine, for the infra tests
// (infra/iam_test.go, which asks the questions of docs/iam.md about the synthesized templates).
// It is a test-time tool: @cloud-copilot/iam-simulate (AGPL-3.0-or-later) is a devDependency,
// run here and never shipped with anything the project builds.
//
// stdin, JSON:
//   {"runs": [{"name": "...",
//              "policies": {"<name>": <policy document>, ...},
//              "questions": [{"id": "...", "principal": "<ARN or service principal>",
//                             "action": "dynamodb:DeleteTable", "resource": "<ARN or *>",
//                             "resourceAccount": "111111111111",
//                             "context": {"aws:ResourceTag/Project": "wallet", "aws:TagKeys": ["..."]},
//                             "identityPolicies": ["<name>", ...], "resourcePolicy": "<name>" or ""}]}]}
// stdout, JSON, one answer per question, in order:
//   {"runs": [{"name": "...", "answers": [{"id": "...", "result": "Allowed" | "ImplicitlyDenied" |
//              "ExplicitlyDenied", "ignoredContextKeys": [...]} or {"id": "...", "error": "..."}]}]}
// A malformed input is refused on stderr with exit 2; an engine that refuses a question (an
// invalid policy, say) answers it with "error", and the test fails on it.
import { runSimulation } from '@cloud-copilot/iam-simulate'

function refuse(message) {
  process.stderr.write(`simulate.mjs: ${message}\n`)
  process.exit(2)
}

async function readStdin() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}

function policy(policies, name, question) {
  if (!Object.hasOwn(policies, name)) refuse(`question ${question.id}: no policy named ${JSON.stringify(name)}`)
  return policies[name]
}

async function answer(policies, q) {
  for (const field of ['id', 'principal', 'action', 'resource', 'resourceAccount']) {
    if (typeof q[field] !== 'string' || q[field] === '') refuse(`question ${JSON.stringify(q.id)}: ${field} must be a non-empty string`)
  }
  const simulation = {
    request: {
      principal: q.principal,
      action: q.action,
      resource: { resource: q.resource, accountId: q.resourceAccount },
      contextVariables: q.context ?? {}
    },
    identityPolicies: (q.identityPolicies ?? []).map((name) => ({ name, policy: policy(policies, name, q) })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: q.resourcePolicy ? policy(policies, q.resourcePolicy, q) : undefined
  }
  const r = await runSimulation(simulation, { simulationMode: 'Strict' })
  if (r.resultType === 'error') return { id: q.id, error: JSON.stringify(r.errors) }
  const results = r.resultType === 'single' ? [r.result] : r.results
  const ignored = [...new Set(results.flatMap((x) => x.ignoredContextKeys ?? []))].sort()
  return { id: q.id, result: r.overallResult, ignoredContextKeys: ignored }
}

let input
try {
  input = JSON.parse(await readStdin())
} catch (e) {
  refuse(`stdin is not JSON: ${e.message}`)
}
if (!input || !Array.isArray(input.runs)) refuse('stdin must be {"runs": [...]}')
const out = { runs: [] }
for (const run of input.runs) {
  if (!run || typeof run.policies !== 'object' || !Array.isArray(run.questions)) refuse(`run ${JSON.stringify(run?.name)}: want {"name", "policies", "questions"}`)
  const answers = []
  for (const q of run.questions) answers.push(await answer(run.policies, q))
  out.runs.push({ name: run.name, answers })
}
process.stdout.write(JSON.stringify(out))
