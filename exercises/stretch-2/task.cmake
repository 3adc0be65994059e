# Stretch 2 puts your task-18 circuit_breaker in front of each backend when
# options.breaker is set. Your stub links your own breaker.cpp; the
# reference links the reference's.
workbook_task_uses(task-18)

# balancer_impl.hpp is yours (what load_balancer::impl keeps); balancer.hpp is
# the contract.
workbook_task_student_headers(balancer_impl.hpp)
