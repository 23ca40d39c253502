"""The supply–demand catalogue (供需目录清单): compile, publish, read, export."""
