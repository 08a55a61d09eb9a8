/**
 * Per-step cost of the math around the model call on the reference backend: split the batched
 * model output into its passes, combine them with guidance, take one scheduler step. SDXL-sized
 * latents ([B, 4, 128, 128]); the model output is fixed random data, so only our math is timed.
 *
 * Run `npm run build` first (the turbo `bench` task does): this imports the built package.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/index.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('dist/index.js not found: build @noiserefine/core first (npm run build).');
  process.exit(1);
}
const core = await import(entry.href);
for (const name of ['classifierFreeGuidance', 'splitPasses', 'DDIMScheduler']) {
  if (typeof core[name] !== 'function') {
    console.error(`dist/ has no export "${name}": it is stale, rebuild @noiserefine/core.`);
    process.exit(1);
  }
}

const WARMUP = 50;
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 300);
const TARGET_MS = 2;
const LATENT = [4, 128, 128];

/** The SDXL scheduler config as diffusers writes it. */
const SDXL_SCHEDULER = {
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  num_train_timesteps: 1000,
  steps_offset: 1,
  set_alpha_to_one: false,
  clip_sample: false,
  prediction_type: 'epsilon',
  timestep_spacing: 'leading',
};

function schedulers() {
  const list = [['DDIM', core.DDIMScheduler]];
  if (typeof core.EulerDiscreteScheduler === 'function') list.push(['Euler', core.EulerDiscreteScheduler]);
  return list.map(([label, Scheduler]) => {
    const scheduler = Scheduler.fromConfig(
      { _class_name: Scheduler.name, ...SDXL_SCHEDULER },
      { onWarning: () => {} },
    );
    scheduler.setTimesteps(50);
    return { label, scheduler };
  });
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * Times `step(i)` (which must dispose what it creates). Wall time is what a user waits; CPU time
 * (this process, all threads) leaves out the time the process sat descheduled on a busy machine.
 */
function measure(step) {
  for (let i = 0; i < WARMUP; i++) step(i);
  const wall = new Float64Array(ITERATIONS);
  const cpu = new Float64Array(ITERATIONS);
  for (let i = 0; i < ITERATIONS; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    step(i);
    wall[i] = performance.now() - t0;
    const dc = process.cpuUsage(c0);
    cpu[i] = (dc.user + dc.system) / 1000;
  }
  const sortedWall = Array.from(wall).sort((a, b) => a - b);
  const sortedCpu = Array.from(cpu).sort((a, b) => a - b);
  return {
    min: sortedWall[0],
    median: quantile(sortedWall, 0.5),
    p90: quantile(sortedWall, 0.9),
    cpuMedian: quantile(sortedCpu, 0.5),
  };
}

function guidedStep({ scheduler, guidance, batch }) {
  const ctx0 = { timestep: 0, stepIndex: 0, numSteps: scheduler.timesteps.length };
  const passes = guidance.passes(ctx0);
  const sample = core.randn([batch, ...LATENT], { seed: 1 });
  const modelOutput = core.randn([batch * passes.length, ...LATENT], { seed: 2 });
  const timesteps = scheduler.timesteps;
  // Stateful (multistep) schedulers expect their timesteps in order: restart the schedule each lap.
  return (i) => {
    const stepIndex = i % timesteps.length;
    if (stepIndex === 0) scheduler.setTimesteps(timesteps.length);
    const timestep = timesteps[stepIndex];
    const ctx = { timestep, stepIndex, numSteps: timesteps.length };
    const outputs = core.splitPasses(modelOutput, passes);
    const guided = guidance.combine(outputs, ctx);
    const input = scheduler.scaleModelInput(sample, timestep);
    const { prevSample, predOriginalSample } = scheduler.step(guided, timestep, input);
    core.disposeAll(...Object.values(outputs), guided, prevSample, predOriginalSample);
    if (input !== sample) input.dispose();
  };
}

const rows = [];
for (const { label, scheduler } of schedulers()) {
  for (const batch of [1, 2]) {
    const guidance = core.classifierFreeGuidance({ guidanceScale: 5 });
    rows.push({
      case: `CFG w=5 + ${label} step`,
      output: `[${2 * batch}, ${LATENT.join(', ')}]`,
      target: true,
      ...measure(guidedStep({ scheduler, guidance, batch })),
    });
  }
}

// Context, not targets: the other guidance methods on the same step (DDIM, one sample).
const [{ scheduler: ddim }] = schedulers();
const extras = [
  ['no guidance + DDIM step', core.noGuidance()],
  [
    'CFG w=5, rescale 0.7 + DDIM step',
    core.classifierFreeGuidance({ guidanceScale: 5, guidanceRescale: 0.7 }),
  ],
  ['CFG w=4 on 3 channels + DDIM step', core.classifierFreeGuidance({ guidanceScale: 4, channels: 3 })],
  ['PAG s=3 + CFG w=5 + DDIM step', core.perturbedAttentionGuidance({ pagScale: 3, guidanceScale: 5 })],
];
for (const [label, guidance] of extras) {
  const passes = guidance.passes({ timestep: 999, stepIndex: 0, numSteps: 50 });
  rows.push({
    case: label,
    output: `[${passes.length}, ${LATENT.join(', ')}]`,
    target: false,
    ...measure(guidedStep({ scheduler: ddim, guidance, batch: 1 })),
  });
}

const header = [
  'case',
  'model output',
  'median ms',
  'min ms',
  'p90 ms',
  'CPU median ms',
  `< ${TARGET_MS} ms`,
];
const table = rows.map((r) => [
  r.case,
  r.output,
  r.median.toFixed(3),
  r.min.toFixed(3),
  r.p90.toFixed(3),
  r.cpuMedian.toFixed(3),
  r.target ? (r.median < TARGET_MS ? 'yes' : 'NO') : '',
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(
  `Per-step cost on the reference backend (split passes + guidance + scheduler step), ` +
    `median of ${ITERATIONS} after ${WARMUP} warm-up, Node ${process.version}`,
);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const row of table) console.log(line(row));
if (!schedulers().some(({ label }) => label === 'Euler')) {
  console.log('(EulerDiscreteScheduler is not in this build: Euler rows skipped.)');
}
const targets = rows.filter((r) => r.target);
const missed = targets.filter((r) => r.median >= TARGET_MS);
console.log(
  missed.length === 0
    ? `All ${targets.length} CFG + scheduler steps under ${TARGET_MS} ms.`
    : `${missed.length} of ${targets.length} CFG + scheduler steps at or over ${TARGET_MS} ms ` +
        `(timings on a busy machine run high: compare CPU medians, rerun when idle).`,
);
