"""The Jupyter project's kernel test suite (jupyter_kernel_test) against the labenv Java kernel.

Run by KernelTestSuiteIT with Debian's python (/usr/bin/python3, package python3-jupyter-kernel-test) and
JUPYTER_PATH naming a directory where the IT installed the kernelspec labenv-java.
"""
import unittest

import jupyter_kernel_test


class LabenvJavaKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "labenv-java"

    language_name = "java"
    file_extension = ".jshell"

    code_hello_world = 'System.out.println("hello, world");'
    code_stderr = 'System.err.println("something went wrong");'

    completion_samples = [
        {"text": "System.out.printl", "matches": {"println("}},
        {"text": "int n = -3;\nMath.ab", "matches": {"abs(", "absExact("}},
        # read() takes no arguments: the completion closes its parenthesis
        {"text": "Table.rea", "matches": {"read()"}},
    ]

    complete_code_samples = [
        "1 + 1",
        "int x = 1;",
        "for (int i = 0; i < 3; i++) {\n  System.out.println(i);\n}",
        "class Point { int x; }",
        'System.out.println("no semicolon needed at the end")',
    ]
    incomplete_code_samples = [
        "for (int i = 0; i < 3; i++) {",
        "int y =",
        "class Point {",
        "int z = 1;\nMath.max(z,",
    ]
    invalid_code_samples = [
        "}",
        'String s = "unclosed',
    ]

    code_display_data = [
        {"code": 'display(Table.create("shown", IntColumn.create("a", 1, 2)));', "mime": "text/html"},
        {"code": 'display(Table.create("shown", IntColumn.create("a", 1, 2)));', "mime": "text/plain"},
        {"code": "display(42);", "mime": "text/plain"},
    ]

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": '"java" + 17', "result": '"java17"'},
        {"code": 'Table.create("t", DoubleColumn.create("x", 1.5, 2.5))', "mime": "text/html"},
    ]

    code_generate_error = 'throw new IllegalStateException("failed on purpose");'

    code_inspect_sample = "Math.max"

    code_clear_output = 'System.out.println("progress 10%");\nclearOutput();'

    # One of code_execute_result's inputs, and only that one.
    code_history_pattern = "6*7"
    supported_history_operations = ("tail", "range", "search")


if __name__ == "__main__":
    unittest.main()
