/**
 * A model owner's labelled set (`oao model eval --data`): samples of real input values in the model's input layout,
 * each with its class, and the top-1 class a model's output gives. Floats here are outside committed computation.
 *
 *   JSON: [{"input": [x0, x1, …], "label": 3}, …]
 *   CSV:  one sample per line, the label then the input values: `3,0.12,0.5,…`
 */
import { InputError } from "./errors.ts";
import { DType, elementCount } from "./tensor.ts";
import { isTextModel, type Model } from "./model.ts";

export interface LabelledSample {
  input: number[];
  label: number;
}

/**
 * How many classes a model's output scores: one row of scores (the class is the index of the largest, ties to the
 * first), or undefined for a single int32 (an ArgMax in the model: the output is the class itself).
 */
export function outputClasses(model: Model): number | undefined {
  const { shape, dtype } = model.output;
  const n = elementCount(shape);
  if (isTextModel(model)) throw new InputError(`${model.metadata.name} is a text model: eval scores classifiers (one class per sample); see scripts/models/eval_text_lm.ts for a language model`);
  if (dtype === DType.int32 && n === 1) return undefined;
  const rows = n / (shape[shape.length - 1] ?? 1);
  if (rows !== 1) throw new InputError(`model ${model.metadata.name}'s output [${shape.join(",")}] has ${rows} rows of scores: eval needs one row per sample (one class), e.g. return the last position's logits`);
  return n;
}

/** The top-1 class of an output: the index of its largest value (the first one on ties), or an int32 index itself. */
export function topClass(values: ArrayLike<number>): number {
  if (values.length === 1) return Number(values[0]);
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

function checkSample(where: string, i: number, input: unknown, label: unknown, want: number, model: Model, classes: number | undefined): LabelledSample {
  if (!Array.isArray(input)) throw new InputError(`${where}: sample ${i}: "input" must be an array of ${want} numbers, got ${JSON.stringify(input)?.slice(0, 40)}`);
  if (input.length !== want) {
    throw new InputError(`${where}: sample ${i} has ${input.length} values, but model ${model.metadata.name} takes ${want} (input shape [${model.input.shape.join(",")}], row-major)`);
  }
  input.forEach((v, j) => {
    if (typeof v !== "number" || !Number.isFinite(v)) throw new InputError(`${where}: sample ${i}, value ${j}: ${JSON.stringify(v)?.slice(0, 40) ?? String(v)} is not a finite number`);
  });
  const max = classes === undefined ? "" : `0..${classes - 1}`;
  if (typeof label !== "number" || !Number.isInteger(label) || label < 0 || (classes !== undefined && label >= classes)) {
    throw new InputError(`${where}: sample ${i}: label ${JSON.stringify(label)?.slice(0, 40) ?? String(label)} is not a class index${max ? ` in ${max} (the model's output scores ${classes} classes)` : " (an integer >= 0)"}`);
  }
  return { input: input as number[], label };
}

/**
 * Parses and checks a labelled set for `model` (JSON, or CSV when `format` is "csv"), naming the sample (and for CSV
 * the line) and what is wrong: a sample of another length than the model's input, a value that is not a finite
 * number, a label that is not a class index of the model's output.
 */
export function parseLabelledSet(text: string, format: "json" | "csv", where: string, model: Model): LabelledSample[] {
  const classes = outputClasses(model);
  const want = elementCount(model.input.shape);
  let samples: LabelledSample[];
  if (format === "json") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new InputError(`${where}: not readable JSON (${(e as Error).message})`);
    }
    if (!Array.isArray(parsed)) throw new InputError(`${where}: expected a JSON array of {"input": [numbers], "label": class}`);
    samples = parsed.map((s: unknown, i) => {
      if (s === null || typeof s !== "object" || Array.isArray(s)) throw new InputError(`${where}: sample ${i} is ${JSON.stringify(s)?.slice(0, 40)}, not an object {"input": [numbers], "label": class}`);
      const { input, label } = s as { input?: unknown; label?: unknown };
      return checkSample(where, i, input, label, want, model, classes);
    });
  } else {
    samples = [];
    text.split(/\r?\n/).forEach((line, l) => {
      if (line.trim() === "") return;
      const fields = line.split(",").map((f) => f.trim());
      const nums = fields.map((f) => (f === "" ? NaN : Number(f)));
      const bad = nums.findIndex((v) => !Number.isFinite(v));
      const i = samples.length;
      if (bad >= 0) {
        const hint = l === 0 ? " (a header line? remove it: each line is the label then the input values)" : "";
        throw new InputError(`${where}: line ${l + 1} (sample ${i}), field ${bad + 1}: ${JSON.stringify(fields[bad]).slice(0, 40)} is not a number${hint}`);
      }
      try {
        samples.push(checkSample(where, i, nums.slice(1), nums[0], want, model, classes));
      } catch (e) {
        throw new InputError(`${(e as Error).message.replace(`${where}: `, `${where}: line ${l + 1}: `)}`);
      }
    });
  }
  if (samples.length === 0) throw new InputError(`${where}: no samples`);
  return samples;
}
