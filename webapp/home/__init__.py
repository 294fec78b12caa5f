"""Home: 工作台 (the month at a glance) and 我的任务 (an inspector\x27s own tasks)."""
