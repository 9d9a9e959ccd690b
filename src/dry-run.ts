// The dry run: the requests the action would send, with the key redacted.

import type { Settings } from './inputs.js';
import { buildRunBody } from './launch.js';

export interface PlannedRequest {
  method: string;
  path: string;
  body?: unknown;
  note?: string;
}

export const NEW_SESSION = '<id of the session created above>';

/** Which lifecycle steps this launch takes (see main.ts). */
export interface PlannedLifecycle {
  supersede: boolean;
  warmStart: boolean;
  adopt: boolean;
}

export function plannedRequests(settings: Settings, runName: string, life?: PlannedLifecycle): PlannedRequest[] {
  const plan: PlannedRequest[] = [];
  if (settings.preflight || life?.warmStart) {
    const note = settings.preflight
      ? 'preflight: base_model, max_seq_len, scope; the availability mode'
      : 'the availability mode, for warm_start';
    plan.push({ method: 'GET', path: '/v1/loops/capabilities', note });
  }
  if (settings.preflight && settings.checkpointPath) {
    plan.push({
      method: 'GET',
      path: `/v1/loops/checkpoints?checkpoint_path=${encodeURIComponent(settings.checkpointPath)}`,
      note: 'preflight: checkpoint_path exists and can be loaded',
    });
  }
  if (life?.adopt || life?.warmStart) {
    const why = [
      life.adopt ? 'adopt_on_rerun: a live run of this leg and commit (an earlier attempt or workflow run)' : '',
      life.warmStart ? 'warm_start: the newest live run of this leg from an older push, unless the run can be serverless' : '',
    ];
    plan.push({ method: 'GET', path: '/v1/loops/runs', note: why.filter(Boolean).join('; ') });
  }
  if (settings.sessionId) {
    plan.push({ method: 'GET', path: `/v1/loops/sessions/${settings.sessionId}`, note: 'reuse session_id' });
  } else {
    plan.push({
      method: 'POST',
      path: '/v1/loops/sessions',
      body: settings.trainingProjectId ? { training_project_id: settings.trainingProjectId } : {},
    });
  }
  plan.push({
    method: 'POST',
    path: '/v1/loops/runs',
    body: buildRunBody(settings, settings.sessionId ?? NEW_SESSION, runName),
  });
  if (life?.supersede) {
    plan.push({
      method: 'GET',
      path: '/v1/loops/runs',
      note: 'supersede: then POST /v1/loops/runs/<id>/deactivate for each older live run of this place and step',
    });
  }
  if (settings.waitFor !== 'none') {
    const what = { sampler: 'the sampler is ACTIVE', trainer: 'the trainer is RUNNING', all: 'the sampler is ACTIVE and the trainer RUNNING' }[
      settings.waitFor
    ];
    plan.push({
      method: 'GET',
      path: '/v1/loops/runs/<run_id>',
      note: `${settings.waitFor === 'sampler' ? '' : 'with GET /v1/loops/deployments/<deployment_id>, '}every ${settings.pollIntervalSeconds}s until ${what}, at most ${settings.waitTimeoutSeconds}s`,
    });
    if (settings.verifySampler && settings.waitFor !== 'trainer') {
      plan.push({
        method: 'GET',
        path: '<sampler_base_url>/v1/models',
        note: "verify_sampler: until it answers with a models list; the key goes only to the API's own domain or to loopback",
      });
    }
  }
  return plan;
}

export function renderPlan(settings: Settings, plan: PlannedRequest[]): string {
  const lines = [`Dry run: nothing is sent. These requests would go to ${settings.apiBaseUrl} with "Authorization: Bearer ***":`];
  for (const request of plan) {
    lines.push(`  ${request.method} ${request.path}${request.note ? `  (${request.note})` : ''}`);
    if (request.body !== undefined) {
      lines.push(
        ...JSON.stringify(request.body, null, 2)
          .split('\n')
          .map((l) => `    ${l}`),
      );
    }
  }
  return lines.join('\n');
}
