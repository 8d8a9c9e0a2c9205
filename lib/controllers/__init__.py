"""Controllers: the app's logic and storage. Each returns `framework.controllers.Result`, never a Response."""
