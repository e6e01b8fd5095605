/** Errors of keeper/graph: one base class, a short message saying what to fix. */
export class GraphError extends Error {
  override name = "GraphError";
}

/** A model file or description that does not match its commitments or the operator rules. */
export class ModelFormatError extends GraphError {
  override name = "ModelFormatError";
}

/** An input (tensor, sample) that does not fit the model. */
export class InputError extends GraphError {
  override name = "InputError";
}
