/**
 * Notebooks: Jupyter in a container, headless execution with receipts, and the JVM kernel.
 * Empty until the notebooks issue.
 */
package labenv.notebook;
