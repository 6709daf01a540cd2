package dev.telemetry.gateway.processor.sampling;

/** The sampler's memory budget is used up; the client should retry later (the pipeline answers 429). */
public final class SamplerFullException extends RuntimeException {
  public SamplerFullException(String message) {
    super(message, null, false, false);
  }
}
