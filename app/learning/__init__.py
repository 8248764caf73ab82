"""Home learning: activities, weekly topics, engagement, photos, the class view and reports."""
