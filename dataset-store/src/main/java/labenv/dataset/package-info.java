/**
 * Datasets: content-addressed, chunked, immutable versions kept in the same content store as
 * images, mounted read-only. Empty until the datasets issue; the module exists so the build's
 * dependency direction (env-cli → notebooks → dataset-store → runtime) is fixed from the start.
 */
package labenv.dataset;
