"""The grading engine: runs a challenge's pytest grader against a solution in a child process.

`graders.runner` spawns and supervises the child; `graders.plugin` is loaded inside it and
reports each check as structured events; `graders.results` holds the typed results.
"""
