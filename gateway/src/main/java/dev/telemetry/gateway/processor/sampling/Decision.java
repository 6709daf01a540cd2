package dev.telemetry.gateway.processor.sampling;

/** A policy's verdict on one trace. Final outcome: any DROP or INVERT_NOT_SAMPLE wins; else any SAMPLE keeps it. */
enum Decision { SAMPLE, NOT_SAMPLE, INVERT_NOT_SAMPLE, DROP }
